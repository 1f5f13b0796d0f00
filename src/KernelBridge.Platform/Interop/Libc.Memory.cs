using System.Runtime.InteropServices;

namespace KernelBridge.Platform.Interop;

/// <summary>Shared memory: anonymous files (memfd), their seals, and shared mappings of them.</summary>
public static partial class Libc
{
    public const uint MFD_CLOEXEC = 0x1;
    public const uint MFD_ALLOW_SEALING = 0x2;

    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int F_SEAL_SEAL = 0x1;
    public const int F_SEAL_SHRINK = 0x2;
    public const int F_SEAL_GROW = 0x4;

    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int PROT_NONE = 0x0;
    public const int PROT_EXEC = 0x4;
    public const int MAP_SHARED = 0x1;
    public const int MAP_PRIVATE = 0x2;
    public const int MAP_FIXED = 0x10;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;

    private const int SEEK_END = 2;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int memfd_create(string name, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial long lseek(int fd, long offset, int whence);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int argument);

    [LibraryImport(Lib, SetLastError = true)]
    internal static unsafe partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static unsafe partial int munmap(void* address, nuint length);

    /// <summary>memfd_create(2), close-on-exec and sealable; -1 with errno on failure.</summary>
    public static int CreateMemoryFile(string name, out int errno)
    {
        var fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>ftruncate(2); errno on failure, 0 on success.</summary>
    public static int Truncate(int fd, long length) => ftruncate(fd, length) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>A file's size (lseek to its end; the descriptor's offset is not used for mapping), or -1.</summary>
    public static long FileLength(int fd) => lseek(fd, 0, SEEK_END);

    /// <summary>fcntl(F_ADD_SEALS); errno on failure, 0 on success.</summary>
    public static int AddSeals(int fd, int seals) => fcntl(fd, F_ADD_SEALS, seals) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>fcntl(F_GET_SEALS): the seals on a memfd, or -1 (not a sealable file).</summary>
    public static int Seals(int fd) => fcntl(fd, F_GET_SEALS, 0);

    /// <summary>mmap(2) of a whole file, shared, read-write; null with errno on failure.</summary>
    public static unsafe byte* MapShared(int fd, long length, out int errno)
    {
        var address = mmap(null, (nuint)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == (void*)-1)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        return (byte*)address;
    }

    /// <summary>Reserves address space: inaccessible, costing no memory; null with errno on failure.</summary>
    public static unsafe byte* Reserve(long length, out int errno) =>
        Checked(mmap(null, (nuint)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), out errno);

    /// <summary>Puts part of a reservation back to inaccessible (what unmapping a view inside it does); errno or 0.</summary>
    public static unsafe int Unreserve(byte* address, long length)
    {
        Checked(mmap(address, (nuint)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0), out var errno);
        return errno;
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes of <paramref name="fd"/> from <paramref name="offset"/> exactly at
    /// <paramref name="address"/> (which must lie in a reservation of ours), shared or copy-on-write; errno or 0.
    /// </summary>
    public static unsafe int MapAt(byte* address, long length, int protection, bool copyOnWrite, int fd, long offset)
    {
        Checked(mmap(address, (nuint)length, protection, (copyOnWrite ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, offset), out var errno);
        return errno;
    }

    private static unsafe byte* Checked(void* address, out int errno)
    {
        if (address == (void*)-1)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        return (byte*)address;
    }

    /// <summary>mmap(2) of <paramref name="length"/> bytes of a file from <paramref name="offset"/> (page-aligned), shared, read-write; null with errno on failure.</summary>
    public static unsafe byte* MapSharedAt(int fd, long length, long offset, out int errno) =>
        Checked(mmap(null, (nuint)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset), out errno);

    /// <summary>munmap(2); false if the kernel refused (a bad address or length: a bug of ours).</summary>
    public static unsafe bool Unmap(byte* address, long length) => munmap(address, (nuint)length) == 0;
}
