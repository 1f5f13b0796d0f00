using System.Diagnostics;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// NT timeouts (100 ns units: negative relative, positive absolute FILETIME) as deadlines on the
/// monotonic clock. A time beyond any calendar (0x7FFFFFFFFFFFFFFF, or a relative -2^63) is an
/// endless wait, as Windows effectively treats it.
/// </summary>
internal static class Timeouts
{
    /// <summary>The deadline meaning "never".</summary>
    public const long Never = long.MaxValue;

    /// <summary>The longest a System.Threading.Timer waits in one go; longer waits re-arm.</summary>
    private static readonly TimeSpan LongestArm = TimeSpan.FromDays(30);

    private static readonly long MaxFileTime = DateTime.MaxValue.ToFileTimeUtc();

    /// <summary>The delay an NT timeout means from now, or null if it lies beyond any clock.</summary>
    public static TimeSpan? DelayOf(long timeout)
    {
        if (timeout < 0) return timeout == long.MinValue ? null : TimeSpan.FromTicks(-timeout);
        if (timeout > MaxFileTime) return null;
        return DateTime.FromFileTimeUtc(timeout) - DateTime.UtcNow;
    }

    /// <summary>The deadline (Stopwatch ticks) of an NT timeout; <see cref="Never"/> for none or beyond any clock.</summary>
    public static long DeadlineOf(long? timeout)
    {
        if (timeout is not { } t || DelayOf(t) is not { } delay) return Never;
        if (delay <= TimeSpan.Zero) return Stopwatch.GetTimestamp();
        // A century is forever for a wait; it also keeps the sum below overflow.
        if (delay > TimeSpan.FromDays(36500)) return Never;
        return Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
    }

    public static bool HasPassed(long deadline) => deadline != Never && Stopwatch.GetTimestamp() >= deadline;

    /// <summary>Arms <paramref name="clock"/> for the deadline, or for as long as a timer can wait (it re-arms then).</summary>
    public static void Arm(Timer clock, long deadline)
    {
        Debug.Assert(deadline != Never, "an endless wait has no clock");
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
        if (left < TimeSpan.Zero) left = TimeSpan.Zero;
        clock.Change(left > LongestArm ? LongestArm : left, Timeout.InfiniteTimeSpan);
    }

    public static void Disarm(Timer? clock) => clock?.Change(Timeout.Infinite, Timeout.Infinite);
}
