using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Platform.Interop;

/// <summary>
/// What `kbridge bench` measures the real kernel with: the cheapest system call there is
/// (getppid), a pipe to ask ioctl(FIONREAD) of, and the clock-tick rate /proc counts CPU time in.
/// </summary>
public static partial class Libc
{
    private const int SC_CLK_TCK = 2;

    [LibraryImport(Lib)]
    private static partial int getppid();

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial int pipe2(int* fds, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    private static partial long sysconf(int name);

    /// <summary>getppid(2): a system call that does nothing but read one field of the caller's task.</summary>
    public static int ParentProcessId() => getppid();

    /// <summary>A pipe (read end, write end), both close-on-exec; throws <see cref="IOException"/> with errno if there is none.</summary>
    public static unsafe (int Read, int Write) OpenPipe()
    {
        var fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw new IOException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        return (fds[0], fds[1]);
    }

    /// <summary>close(2) of a descriptor this process opened itself (<see cref="OpenPipe"/>).</summary>
    public static void CloseDescriptor(int fd) => new SafeFileHandle(fd, ownsHandle: true).Dispose();

    /// <summary>sysconf(_SC_CLK_TCK): the unit of utime and stime in /proc/PID/stat (100 on every common Linux).</summary>
    public static long ClockTicksPerSecond() => sysconf(SC_CLK_TCK) is > 0 and var ticks ? ticks : 100;
}
