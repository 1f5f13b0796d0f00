using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Client;

/// <summary>
/// A section backed by the paging file (CreateFileMapping / NtCreateSection): memory the kernel,
/// its drivers and other processes can share. Map views of it with <see cref="MapView"/>.
/// </summary>
public sealed class Section : IDisposable
{
    private Section(KernelHandle handle) => Handle = handle;

    public KernelHandle Handle { get; }

    /// <summary>
    /// A new section of <paramref name="size"/> bytes (unnamed, or \BaseNamedObjects\NAME; an existing
    /// one of that name is opened, with its own size).
    /// </summary>
    public static unsafe Section Create(long size, uint protection = PageProtection.PAGE_READWRITE, string? name = null, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtCreateSection(gate, &handle, AccessMask.SECTION_ALL_ACCESS,
            new ObjectAttributes(Kernel32.NamedObjectPath(name), name is null ? 0 : ObjectAttributeFlags.OBJ_OPENIF), &size, protection,
            MemoryAttributes.SEC_COMMIT, 0);
        if (status.IsError) throw new NtStatusException(status, $"creating a section of {size} bytes");
        return new Section(new KernelHandle(handle, gate));
    }

    /// <summary>OpenFileMapping on \BaseNamedObjects\NAME.</summary>
    public static unsafe Section Open(string name, uint desiredAccess = AccessMask.SECTION_MAP_READ | AccessMask.SECTION_MAP_WRITE | AccessMask.SECTION_QUERY,
        GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtOpenSection(gate, &handle, desiredAccess, new ObjectAttributes(Kernel32.NamedObjectPath(name), 0));
        if (status.IsError) throw new NtStatusException(status, $"opening section {name}");
        return new Section(new KernelHandle(handle, gate));
    }

    /// <summary>The section's size (NtQuerySection), rounded up to a page.</summary>
    public unsafe long Size
    {
        get
        {
            SectionBasicInformation information;
            NtStatusException.ThrowIfError(Ntdll.NtQuerySection(Handle.Gate, Handle.Value, SectionInformationClass.SectionBasicInformation, &information,
                (uint)sizeof(SectionBasicInformation), null), "NtQuerySection");
            return information.MaximumSize;
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes (0: to the end) from <paramref name="offset"/> (a multiple of 64 KiB) with a PAGE_* protection.</summary>
    public unsafe SectionView MapView(long offset = 0, long length = 0, uint protection = PageProtection.PAGE_READWRITE)
    {
        nint address = 0;
        var size = (nuint)length;
        var status = Ntdll.NtMapViewOfSection(Handle.Gate, Handle.Value, PseudoHandles.CurrentProcess, &address, 0, 0, &offset, &size,
            SectionInherit.ViewShare, 0, protection);
        if (status.IsError) throw new NtStatusException(status, $"mapping a view of {length} bytes at offset {offset}");
        return new SectionView(Handle.Gate, address, (long)size, protection);
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>
/// A view of a section, mapped in this process (as MemoryMappedViewAccessor): its bytes as a span,
/// typed reads and writes. Disposing unmaps it (NtUnmapViewOfSection). A read-only view is really
/// read-only: writing to it is an access violation, which ends the process.
/// </summary>
public sealed unsafe class SectionView : IDisposable
{
    private readonly GateClient _gate;
    private nint _address;

    internal SectionView(GateClient gate, nint address, long length, uint protection)
    {
        _gate = gate;
        _address = address;
        Length = length;
        Protection = protection;
    }

    /// <summary>The view's first byte in this process.</summary>
    public nint Address => _address != 0 ? _address : throw new ObjectDisposedException(nameof(SectionView));

    public long Length { get; }

    /// <summary>The PAGE_* protection it was mapped with.</summary>
    public uint Protection { get; }

    public bool CanWrite => (Protection & (PageProtection.PAGE_READWRITE | PageProtection.PAGE_WRITECOPY | PageProtection.PAGE_EXECUTE_READWRITE
        | PageProtection.PAGE_EXECUTE_WRITECOPY)) != 0;

    /// <summary>The whole view (up to 2 GiB; larger views through <see cref="Slice"/>).</summary>
    public Span<byte> Span => new((void*)Address, checked((int)Length));

    public Span<byte> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, Length);
        return new((byte*)Address + offset, length);
    }

    public T Read<T>(long position) where T : unmanaged => MemoryMarshal.Read<T>(Slice(position, sizeof(T)));

    public void Write<T>(long position, in T value) where T : unmanaged => MemoryMarshal.Write(Slice(position, sizeof(T)), in value);

    /// <summary>FlushViewOfFile (nothing to write back for the paging file).</summary>
    public void Flush()
    {
        if (!Kernel32.FlushViewOfFile(Address, (nuint)Length)) throw new NtStatusException(NtStatus.STATUS_NOT_MAPPED_VIEW, "FlushViewOfFile");
    }

    public void Dispose()
    {
        var address = Interlocked.Exchange(ref _address, 0);
        if (address != 0 && _gate.IsConnected) Ntdll.NtUnmapViewOfSection(_gate, PseudoHandles.CurrentProcess, address);
    }
}
