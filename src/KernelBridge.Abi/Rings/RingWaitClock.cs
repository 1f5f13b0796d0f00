using System.Diagnostics;

namespace KernelBridge.Abi.Rings;

/// <summary>The two deadlines of a spin-then-sleep wait, on the monotonic clock.</summary>
internal readonly struct RingWaitClock
{
    private readonly long _spinEnd;
    private readonly long _deadline;

    public RingWaitClock(TimeSpan spin, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var now = Stopwatch.GetTimestamp();
        _deadline = now + ToTicks(timeout);
        _spinEnd = Math.Min(_deadline, now + ToTicks(spin));
    }

    public bool Spinning => Stopwatch.GetTimestamp() < _spinEnd;

    /// <summary>Milliseconds left, rounded up (a sleep never ends before the deadline), or 0 once it has passed.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            var left = _deadline - Stopwatch.GetTimestamp();
            if (left <= 0) return 0;
            return (int)Math.Min(int.MaxValue, (left * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
        }
    }

    /// <summary>Sleeps on a shared word through the doorbell; without one, polls once a millisecond.</summary>
    public static unsafe void Sleep(IRingDoorbell? doorbell, uint* word, uint expected, int milliseconds)
    {
        if (doorbell is not null) doorbell.Wait(word, expected, milliseconds);
        else if (Volatile.Read(ref *word) == expected) Thread.Sleep(Math.Min(milliseconds, 1));
    }

    private static long ToTicks(TimeSpan span) =>
        span <= TimeSpan.Zero ? 0 : (long)Math.Min(long.MaxValue / 4, span.TotalSeconds * Stopwatch.Frequency);
}
