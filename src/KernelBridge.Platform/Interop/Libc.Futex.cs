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

    private const uint FUTEX2_SIZE_U32 = 0x02;
    private const int CLOCK_MONOTONIC = 1;

    /// <summary>struct futex_waitv: one word of a multi-word wait.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FutexWaiter
    {
        public ulong Value;
        public ulong Address;
        public uint Flags;
        public uint Reserved;

        /// <summary>Sleep while the 32-bit word at <paramref name="address"/> (shared, not process-private) holds <paramref name="expected"/>.</summary>
        public static unsafe FutexWaiter On(uint* address, uint expected) =>
            new() { Value = expected, Address = (ulong)address, Flags = FUTEX2_SIZE_U32 };
    }

    /// <summary>The most words one futex_waitv call waits on (FUTEX_WAITV_MAX).</summary>
    public const int MaxFutexWaiters = 128;

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscall_waitv(long number, FutexWaiter* waiters, uint count, uint flags, Timespec* timeout, int clockId);

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial int clock_gettime(int clockId, Timespec* time);

    private static readonly long SYS_futex_waitv = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 449,
        _ => -1,
    };

    /// <summary>
    /// futex_waitv (Linux 5.16): sleeps until any of the words is woken or no longer holds its value,
    /// at most <paramref name="timeoutMilliseconds"/>. The index of the word that woke it (&gt;= 0), or
    /// -errno: EAGAIN (a word had changed already), ETIMEDOUT, EINTR, ENOSYS (an older system).
    /// </summary>
    public static unsafe int FutexWaitMany(ReadOnlySpan<FutexWaiter> waiters, int timeoutMilliseconds)
    {
        if (SYS_futex_waitv < 0) return -ENOSYS;
        // The timeout is absolute, on the monotonic clock.
        Timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.Seconds += timeoutMilliseconds / 1000;
        deadline.Nanoseconds += timeoutMilliseconds % 1000 * 1_000_000L;
        if (deadline.Nanoseconds >= 1_000_000_000L)
        {
            deadline.Seconds++;
            deadline.Nanoseconds -= 1_000_000_000L;
        }
        fixed (FutexWaiter* first = waiters)
        {
            var result = syscall_waitv(SYS_futex_waitv, first, (uint)waiters.Length, 0, &deadline, CLOCK_MONOTONIC);
            return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
        }
    }

    public const int ENOSYS = 38;

    /// <summary>True if this system has futex_waitv (probed once with an empty wait).</summary>
    public static bool HasFutexWaitMany { get; } = ProbeFutexWaitMany();

    private static unsafe bool ProbeFutexWaitMany()
    {
        uint word = 1;
        Span<FutexWaiter> one = [FutexWaiter.On(&word, 0)];
        // The word does not hold 0: a system with the call answers EAGAIN at once.
        return FutexWaitMany(one, 0) == -EAGAIN;
    }
}
