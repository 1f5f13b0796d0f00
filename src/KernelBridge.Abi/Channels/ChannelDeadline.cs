using System.Diagnostics;

namespace KernelBridge.Abi.Channels;

/// <summary>The end of a bounded wait that may take several ring waits, on the monotonic clock.</summary>
internal readonly struct ChannelDeadline
{
    private readonly long _end;

    private ChannelDeadline(long end) => _end = end;

    /// <summary>Every wait is bounded: a negative timeout (Timeout.InfiniteTimeSpan included) is the caller's mistake.</summary>
    public static ChannelDeadline After(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var ticks = (long)Math.Min(long.MaxValue / 4, timeout.TotalSeconds * Stopwatch.Frequency);
        return new ChannelDeadline(Stopwatch.GetTimestamp() + ticks);
    }

    public bool Expired => Stopwatch.GetTimestamp() >= _end;

    /// <summary>What is left, or zero once the deadline has passed.</summary>
    public TimeSpan Remaining
    {
        get
        {
            var left = _end - Stopwatch.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, left);
        }
    }
}
