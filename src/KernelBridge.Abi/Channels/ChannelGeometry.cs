using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// A private, validated copy of a channel header's geometry, read once when a side attaches:
/// nothing the peer writes into the header later changes what this side believes about where
/// the rings are or what happens when they fill up.
/// </summary>
public readonly struct ChannelGeometry
{
    public int DownCapacity { get; }
    public int UpCapacity { get; }
    public ChannelOverflowPolicy DownPolicy { get; }
    public ChannelOverflowPolicy UpPolicy { get; }

    private ChannelGeometry(int downCapacity, int upCapacity, ChannelOverflowPolicy downPolicy, ChannelOverflowPolicy upPolicy)
    {
        DownCapacity = downCapacity;
        UpCapacity = upCapacity;
        DownPolicy = downPolicy;
        UpPolicy = upPolicy;
    }

    public int Capacity(ChannelDirection direction) => direction == ChannelDirection.Down ? DownCapacity : UpCapacity;

    public ChannelOverflowPolicy Policy(ChannelDirection direction) => direction == ChannelDirection.Down ? DownPolicy : UpPolicy;

    /// <summary>Where the direction's ring starts in the region.</summary>
    public long RingOffset(ChannelDirection direction) => ChannelLayout.RingOffset(direction, DownCapacity);

    /// <summary>
    /// Reads and checks the header of a region the peer may have written anything into: magic,
    /// version, header length, no unknown flags, capacities a ring accepts, known policies, and both
    /// rings inside the region. The rings' own headers are checked when each side attaches to them.
    /// </summary>
    public static unsafe RingStatus TryRead(byte* region, long regionLength, out ChannelGeometry geometry)
    {
        geometry = default;
        if (region is null || regionLength < ChannelLayout.HeaderLength) return RingStatus.BadGeometry;
        var header = (ChannelHeader*)region;
        // Acquire on the magic pairs with the creator's release: the fields below are the creator's.
        if (Volatile.Read(ref header->Magic) != ChannelLayout.Magic) return RingStatus.WrongMagic;
        if (header->Version != ChannelLayout.Version) return RingStatus.UnsupportedVersion;
        if (header->HeaderLength != ChannelLayout.HeaderLength || header->Flags != 0) return RingStatus.BadGeometry;

        // Each field read once into a local: the checks and the copy see the same values.
        var downCapacity = header->DownCapacity;
        var upCapacity = header->UpCapacity;
        var downPolicy = header->DownPolicy;
        var upPolicy = header->UpPolicy;
        if (!ChannelLayout.IsValidCapacity(downCapacity) || !ChannelLayout.IsValidCapacity(upCapacity)) return RingStatus.BadGeometry;
        if (!ChannelLayout.IsValidPolicy(downPolicy) || !ChannelLayout.IsValidPolicy(upPolicy)) return RingStatus.BadGeometry;
        // Valid capacities are at most 1 GiB each: the sum cannot overflow a long.
        if (ChannelLayout.RegionLength(downCapacity, upCapacity) > regionLength) return RingStatus.BadGeometry;

        geometry = new ChannelGeometry(downCapacity, upCapacity, downPolicy, upPolicy);
        return RingStatus.Ok;
    }
}
