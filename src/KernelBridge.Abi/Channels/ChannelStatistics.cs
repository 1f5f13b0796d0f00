namespace KernelBridge.Abi.Channels;

/// <summary>
/// A snapshot of one direction's <see cref="ChannelCounters"/>: records and payload bytes sent,
/// and records dropped (<see cref="ChannelOverflowPolicy.Drop"/>). The peer may write anything
/// there: a figure to show, never one to trust.
/// </summary>
public readonly record struct ChannelStatistics(long Records, long Bytes, long Dropped)
{
    internal static unsafe ChannelStatistics Read(ChannelCounters* counters) => new(
        Volatile.Read(ref counters->Records),
        Volatile.Read(ref counters->Bytes),
        Volatile.Read(ref counters->Dropped));
}
