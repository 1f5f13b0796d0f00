using System.Runtime.InteropServices;

namespace KernelBridge.Platform.Interop;

/// <summary>
/// futex(2) on a word of shared memory, through syscall(2) (glibc has no wrapper). Not the
/// PRIVATE variants: the word is in a mapping other processes share.
/// </summary>
public static partial class Libc
{
    public const int EAGAIN = 11;
    public const int ETIMEDOUT = 110;

    private const int FUTEX_WAIT = 0;
    private const int FUTEX_WAKE = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // syscall(2) is variadic; every argument here is an integer or a pointer, which both ABIs we run on pass in the same registers.
    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial long syscall(long number, uint* address, int operation, uint value, Timespec* timeout, uint* address2, uint value3);

    private static readonly long SYS_futex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        Architecture.RiscV64 => 98,
        Architecture.LoongArch64 => 98,
        _ => throw new PlatformNotSupportedException($"futex: unknown syscall number on {RuntimeInformation.ProcessArchitecture}"),
    };

    /// <summary>
    /// FUTEX_WAIT: sleeps while <c>*address == expected</c>, at most <paramref name="timeoutMilliseconds"/>.
    /// 0 when woken, else errno: EAGAIN (the word had changed), ETIMEDOUT, EINTR (a signal).
    /// </summary>
    public static unsafe int FutexWait(uint* address, uint expected, int timeoutMilliseconds)
    {
        var timeout = new Timespec
        {
            Seconds = timeoutMilliseconds / 1000,
            Nanoseconds = timeoutMilliseconds % 1000 * 1_000_000L,
        };
        return syscall(SYS_futex, address, FUTEX_WAIT, expected, &timeout, null, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>FUTEX_WAKE: wakes up to <paramref name="waiters"/> sleepers on the word; how many it woke, or -1.</summary>
    public static unsafe int FutexWake(uint* address, int waiters) =>
        (int)syscall(SYS_futex, address, FUTEX_WAKE, (uint)waiters, null, null, 0);
}
