using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// One direction's traffic, in the channel header, written by that direction's senders only and
/// read by anyone (<see cref="ChannelStatistics"/>). Informational: the peer can write anything
/// here, so nothing on either side trusts these numbers for safety.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct ChannelCounters
{
    /// <summary>Records committed.</summary>
    [FieldOffset(0)] public long Records;

    /// <summary>Payload bytes committed.</summary>
    [FieldOffset(8)] public long Bytes;

    /// <summary>Records a <see cref="ChannelOverflowPolicy.Drop"/> sender could not fit, and did not send.</summary>
    [FieldOffset(16)] public long Dropped;
}
