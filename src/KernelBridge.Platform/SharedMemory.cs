using System.Runtime.InteropServices;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Platform;

/// <summary>
/// A memfd and its shared mapping, owned together: what rings and syscall areas live in. The
/// creator seals the file's size, and a side that maps a descriptor it was given refuses one
/// without that seal: a peer that could shrink the file could make our next access a SIGBUS.
/// The handle is the mapping's address; releasing it unmaps and closes the descriptor.
/// </summary>
public sealed unsafe class SharedMemory : SafeHandle
{
    private const int SizeSeals = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW;

    private SharedMemory(byte* address, long length, SafeFileHandle descriptor)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)address);
        Length = length;
        Descriptor = descriptor;
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The mapping's first byte; valid until this is disposed.</summary>
    public byte* Pointer => (byte*)handle;

    public long Length { get; }

    /// <summary>The memfd (to pass with SCM_RIGHTS, or to name as /proc/PID/fd/N).</summary>
    public SafeFileHandle Descriptor { get; }

    /// <summary>A path another process of ours can open to map the same memory (while this is alive).</summary>
    public string ProcPath => $"/proc/{Environment.ProcessId}/fd/{Descriptor.DangerousGetHandle()}";

    /// <summary>A new zero-filled memfd of <paramref name="length"/> bytes, size-sealed, mapped shared.</summary>
    public static SharedMemory Create(string name, long length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var fd = Libc.CreateMemoryFile(name, out var errno);
        if (fd < 0) throw new IOException($"memfd_create failed: errno {errno}");
        var descriptor = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            errno = Libc.Truncate(fd, length);
            if (errno != 0) throw new IOException($"ftruncate of a memfd to {length} bytes failed: errno {errno}");
            errno = Libc.AddSeals(fd, SizeSeals | Libc.F_SEAL_SEAL);
            if (errno != 0) throw new IOException($"sealing a memfd failed: errno {errno}");
            var address = Libc.MapShared(fd, length, out errno);
            if (address is null) throw new IOException($"mmap of {length} shared bytes failed: errno {errno}");
            return new SharedMemory(address, length, descriptor);
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps a memfd a peer gave us (it takes ownership of <paramref name="descriptor"/>). Null with a
    /// reason when the descriptor is not a size-sealed memfd or its size is outside [1, maxLength].
    /// </summary>
    public static SharedMemory? TryMap(SafeFileHandle descriptor, long maxLength, out string? error)
    {
        var fd = (int)descriptor.DangerousGetHandle();
        var seals = Libc.Seals(fd);
        if (seals < 0 || (seals & SizeSeals) != SizeSeals)
        {
            descriptor.Dispose();
            error = "the descriptor is not a memfd sealed against resizing";
            return null;
        }
        var length = Libc.FileLength(fd);
        if (length < 1 || length > maxLength)
        {
            descriptor.Dispose();
            error = $"the memfd is {length} bytes, outside [1, {maxLength}]";
            return null;
        }
        var address = Libc.MapShared(fd, length, out var errno);
        if (address is null)
        {
            descriptor.Dispose();
            error = $"mmap failed: errno {errno}";
            return null;
        }
        error = null;
        return new SharedMemory(address, length, descriptor);
    }

    /// <summary>Opens and maps a memfd by path (another process's /proc/PID/fd/N); null with a reason on failure.</summary>
    public static SharedMemory? TryOpen(string path, long maxLength, out string? error)
    {
        var fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            error = $"cannot open {path}: errno {Marshal.GetLastPInvokeError()}";
            return null;
        }
        return TryMap(new SafeFileHandle(fd, ownsHandle: true), maxLength, out error);
    }

    protected override bool ReleaseHandle()
    {
        var unmapped = Libc.Unmap((byte*)handle, Length);
        Descriptor.Dispose();
        return unmapped;
    }
}
