using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// The creator's choice for one direction: the ring's capacity (a power of two), what a sender does
/// when it is full, the longest record (0: the largest the capacity allows, half of it less a
/// record header) and whether several threads or processes send on it at once.
/// </summary>
public readonly record struct ChannelDirectionOptions(
    int Capacity,
    ChannelOverflowPolicy Policy = ChannelOverflowPolicy.Block,
    int MaxRecordLength = 0,
    bool MultiProducer = false)
{
    internal RingOptions ToRingOptions() => new(Capacity, MaxRecordLength, FixedPayloadLength: 0, MultiProducer);
}
