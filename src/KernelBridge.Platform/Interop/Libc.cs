using System.Runtime.InteropServices;

namespace KernelBridge.Platform.Interop;

/// <summary>
/// Every platform call KernelBridge makes goes through here: one small, reviewed surface.
/// </summary>
public static partial class Libc
{
    private const string Lib = "libc";

    public const int LOCK_SH = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int LOCK_UN = 8;

    public const int EWOULDBLOCK = 11;
    public const int ESRCH = 3;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_UID = 0x8;

    public const int SOL_SOCKET = 1;
    public const int SO_PEERCRED = 17;

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int flock(int fd, int operation);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int statx(int dirfd, string pathname, int flags, uint mask, StatxBuffer* statxbuf);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string pathname, int flags, uint mode);

    [LibraryImport(Lib)]
    internal static partial uint geteuid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static unsafe partial int ioctl(int fd, ulong request, int* argument);

    public const ulong FIONREAD = 0x541B;

    /// <summary>One trivial ioctl(2) (FIONREAD): the benchmark's "real kernel" baseline.</summary>
    public static unsafe int TrivialIoctl(int fd)
    {
        int available;
        return ioctl(fd, FIONREAD, &available);
    }

    [LibraryImport(Lib)]
    internal static partial int getpid();

    [LibraryImport(Lib)]
    internal static partial int gettid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setsid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    /// <summary>The fixed head of struct statx (its layout is the same on every architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatxBuffer
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
    }

    /// <summary>struct ucred, as SO_PEERCRED returns it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>open(2) with no .NET locking of its own; the handle closes the descriptor.</summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle OpenForLock(string path)
    {
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180);
        if (fd < 0) throw new IOException($"cannot open {path}: errno {Marshal.GetLastPInvokeError()}");
        return new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
    }

    public static uint EffectiveUserId() => geteuid();

    /// <summary>The calling thread's kernel thread id (what /proc/self/task lists).</summary>
    public static int CurrentThreadId() => gettid();

    /// <summary>Leaves the caller's session and process group, so a terminal's Ctrl-C does not reach us.</summary>
    public static bool StartSession() => setsid() >= 0;

    /// <summary>flock(2) on a file descriptor; false with errno on failure.</summary>
    public static bool TryFlock(int fd, int operation, out int errno)
    {
        var ok = flock(fd, operation) == 0;
        errno = ok ? 0 : Marshal.GetLastPInvokeError();
        return ok;
    }

    /// <summary>Whether a process with this pid exists (kill(pid, 0)).</summary>
    public static bool ProcessExists(int pid) => kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH;

    public const int SIGCONT = 18, SIGSTOP = 19;

    /// <summary>kill(2): sends <paramref name="signal"/> to the one process <paramref name="pid"/> (never a group: pid must be positive).</summary>
    public static bool SendSignal(int pid, int signal) => pid > 0 && kill(pid, signal) == 0;

    /// <summary>Owner and mode of a path without following a final symbolic link, or null if it does not exist.</summary>
    public static unsafe (uint Uid, uint Mode)? OwnerAndMode(string path)
    {
        StatxBuffer buffer = default;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_UID | STATX_MODE, &buffer) != 0) return null;
        return (buffer.Uid, buffer.Mode);
    }
}
