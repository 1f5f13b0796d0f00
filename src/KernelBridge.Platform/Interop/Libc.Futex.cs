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

    /// <summary>The most words one <see cref="FutexWaitAny"/> can wait on (the kernel's FUTEX_WAITV_MAX).</summary>
    public const int MaxFutexWaitWords = 128;

    private const uint FUTEX2_SIZE_U32 = 2;
    private const int CLOCK_MONOTONIC = 1;

    /// <summary>struct futex_waitv (Linux 5.16+).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FutexWaitV
    {
        public ulong Value;
        public ulong Address;
        public uint Flags;
        public uint Reserved;
    }

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscall_waitv(long number, FutexWaitV* waiters, uint count, uint flags, Timespec* timeout, int clock);

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial int clock_gettime(int clock, Timespec* time);

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

    // futex_waitv has the same number on every architecture (it came after the tables were unified).
    private const long SYS_futex_waitv = 449;

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

    /// <summary>
    /// futex_waitv(2): sleeps until any of <paramref name="words"/> is woken, as long as each still
    /// holds its <paramref name="expected"/> value, at most <paramref name="timeoutMilliseconds"/>.
    /// The index of the word that was woken, or minus errno: EAGAIN (some word had already changed),
    /// ETIMEDOUT, EINTR, ENOSYS (a kernel before 5.16). Shared (not private) words, as the rings need.
    /// </summary>
    public static unsafe int FutexWaitAny(ReadOnlySpan<nint> words, ReadOnlySpan<uint> expected, int timeoutMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfZero(words.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(words.Length, MaxFutexWaitWords);
        ArgumentOutOfRangeException.ThrowIfNotEqual(expected.Length, words.Length);
        var waiters = stackalloc FutexWaitV[words.Length];
        for (var i = 0; i < words.Length; i++)
            waiters[i] = new FutexWaitV { Value = expected[i], Address = (ulong)words[i], Flags = FUTEX2_SIZE_U32 };
        // The timeout is absolute, on the monotonic clock.
        Timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.Seconds += timeoutMilliseconds / 1000;
        deadline.Nanoseconds += timeoutMilliseconds % 1000 * 1_000_000L;
        if (deadline.Nanoseconds >= 1_000_000_000)
        {
            deadline.Seconds++;
            deadline.Nanoseconds -= 1_000_000_000;
        }
        var woken = syscall_waitv(SYS_futex_waitv, waiters, (uint)words.Length, 0, &deadline, CLOCK_MONOTONIC);
        return woken >= 0 ? (int)woken : -Marshal.GetLastPInvokeError();
    }
}
