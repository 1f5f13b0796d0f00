using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Client.Memory;

/// <summary>
/// The address range this process set aside for views at hello: inaccessible and costing no memory
/// until the kernel says to map a view at some address in it. The kernel chooses every address (as
/// Windows' memory manager does), so a driver can return a view's address before the client has
/// mapped it; the client library maps it on the kernel's instruction, before the call that caused it
/// returns. Keeps the views it mapped, for lookups.
/// </summary>
internal sealed unsafe class ViewSpace : IDisposable
{
    /// <summary>How much address space is set aside (64 GiB of the 128 TiB a process has; views of the largest sections fit many times).</summary>
    public const long DefaultLength = 64L << 30;

    private readonly byte* _reservation;
    private readonly long _reservedLength;
    private readonly SortedList<ulong, (ulong Length, uint Protection)> _views = [];
    private readonly Lock _lock = new();
    private bool _disposed;
    // Views mapped now, readable without the lock: most I/O is not in a view, and learns so for the cost of one read.
    private volatile int _mapped;

    private ViewSpace(byte* reservation, long reservedLength, ulong baseAddress, ulong length)
    {
        _reservation = reservation;
        _reservedLength = reservedLength;
        BaseAddress = baseAddress;
        Length = length;
    }

    public ulong BaseAddress { get; }
    public ulong Length { get; }

    /// <summary>Reserves <paramref name="length"/> bytes starting at an allocation-granularity boundary; null if the system refuses.</summary>
    public static ViewSpace? TryReserve(long length = DefaultLength)
    {
        const long granularity = MemoryAttributes.AllocationGranularity;
        var reserved = length + granularity;
        var reservation = Libc.Reserve(reserved, out _);
        if (reservation is null) return null;
        var aligned = ((ulong)reservation + granularity - 1) & ~(ulong)(granularity - 1);
        return new ViewSpace(reservation, reserved, aligned, (ulong)length);
    }

    /// <summary>Carries out a View frame from the kernel (with the descriptor it brought, for a map).</summary>
    public void Apply(ViewOperation operation, in ViewInstruction instruction, SafeFileHandle? descriptor)
    {
        using (descriptor)
        {
            if (instruction.Length == 0 || instruction.Address < BaseAddress || instruction.Length > BaseAddress + Length - instruction.Address)
                throw new ProtocolViolationException($"a view instruction for 0x{instruction.Address:X}+0x{instruction.Length:X}, outside the view space");
            lock (_lock)
            {
                if (_disposed) return;
                var address = (byte*)instruction.Address;
                var length = (long)instruction.Length;
                if (operation == ViewOperation.Map)
                {
                    if (descriptor is null) throw new ProtocolViolationException("a view to map came without its descriptor");
                    var errno = Libc.MapAt(address, length, ProtectionOf(instruction.Protection), IsCopyOnWrite(instruction.Protection),
                        (int)descriptor.DangerousGetHandle(), instruction.FileOffset);
                    if (errno != 0) throw new ProtocolViolationException($"mapping a view at 0x{instruction.Address:X} failed: errno {errno}");
                    _views[instruction.Address] = (instruction.Length, instruction.Protection);
                    _mapped = _views.Count;
                }
                else if (operation == ViewOperation.Unmap)
                {
                    Libc.Unreserve(address, length);
                    _views.Remove(instruction.Address);
                    _mapped = _views.Count;
                }
                else
                {
                    throw new ProtocolViolationException($"a view instruction {operation}");
                }
            }
        }
    }

    /// <summary>The view that holds <paramref name="address"/>: where it starts and how long it is.</summary>
    public bool TryGetView(ulong address, out ulong start, out ulong length)
    {
        start = length = 0;
        lock (_lock)
        {
            var index = IndexOf(address);
            if (index < 0) return false;
            start = _views.Keys[index];
            length = _views.Values[index].Length;
            return true;
        }
    }

    /// <summary>Whether [address, address + length) lies inside one mapped view, and its protection.</summary>
    public bool TryFind(ulong address, ulong length, out uint protection)
    {
        protection = 0;
        if (_mapped == 0) return false;
        lock (_lock)
        {
            var index = IndexOf(address);
            if (index < 0) return false;
            var view = _views.Values[index];
            protection = view.Protection;
            return length <= _views.Keys[index] + view.Length - address;
        }
    }

    /// <summary>The index of the view holding <paramref name="address"/> (a binary search; the lock held), or -1.</summary>
    private int IndexOf(ulong address)
    {
        var keys = _views.Keys;
        int low = 0, high = keys.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var start = keys[middle];
            if (address < start) high = middle - 1;
            else if (address >= start + _views.Values[middle].Length) low = middle + 1;
            else return middle;
        }
        return -1;
    }

    /// <summary>
    /// Whether I/O on [address, address + length) goes by reference: the range lies in one shared view
    /// (the kernel then works in the section itself, and checks the view's protection as a probe would).
    /// A copy-on-write view's written pages are this process's own, so I/O on it is copied as for any memory.
    /// </summary>
    public bool CanLock(void* address, uint length)
    {
        if (address is null || length == 0 || !TryFind((ulong)address, length, out var protection)) return false;
        return (protection & 0xFF) is not (PageProtection.PAGE_WRITECOPY or PageProtection.PAGE_EXECUTE_WRITECOPY);
    }

    /// <summary>Views this process has mapped now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _views.Count;
        }
    }

    private static int ProtectionOf(uint protection) => (protection & 0xFF) switch
    {
        PageProtection.PAGE_READONLY => Libc.PROT_READ,
        PageProtection.PAGE_READWRITE or PageProtection.PAGE_WRITECOPY => Libc.PROT_READ | Libc.PROT_WRITE,
        PageProtection.PAGE_EXECUTE => Libc.PROT_EXEC,
        PageProtection.PAGE_EXECUTE_READ => Libc.PROT_READ | Libc.PROT_EXEC,
        PageProtection.PAGE_EXECUTE_READWRITE => Libc.PROT_READ | Libc.PROT_WRITE | Libc.PROT_EXEC,
        PageProtection.PAGE_EXECUTE_WRITECOPY => Libc.PROT_READ | Libc.PROT_WRITE | Libc.PROT_EXEC,
        _ => Libc.PROT_NONE,
    };

    // A write-copy view is private: readable and writable here, its writes never reach the section.
    private static bool IsCopyOnWrite(uint protection) => (protection & 0xFF) is PageProtection.PAGE_WRITECOPY or PageProtection.PAGE_EXECUTE_WRITECOPY;

    /// <summary>The connection is gone: every view goes with the reservation.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _views.Clear();
            _mapped = 0;
            Libc.Unmap(_reservation, _reservedLength);
        }
    }
}
