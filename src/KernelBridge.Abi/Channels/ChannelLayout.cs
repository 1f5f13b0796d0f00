using System.Numerics;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// The constants of a shared channel's region and the creator's one-time initialisation. A region
/// is a <see cref="ChannelHeader"/>, then the down ring (driver → user), then the up ring
/// (user → driver), each an ordinary ring (docs/rings.md) at an offset both sides compute from
/// the capacities alone, so a peer has no offset of its own to lie about.
/// </summary>
public static unsafe class ChannelLayout
{
    /// <summary>"KBCH" in memory order.</summary>
    public const uint Magic = 0x4843_424B;

    public const ushort Version = 1;

    /// <summary>The channel header's length; the down ring's region starts here.</summary>
    public const int HeaderLength = 512;

    /// <summary>Each ring starts on a multiple of this: its header's cache-line pairs stay pairs.</summary>
    public const int RingAlignment = 128;

    /// <summary>The ring record type of a channel's data records; other types are reserved for the channel's own use (a receiver refuses them as corrupt).</summary>
    public const int DataRecordType = 0;

    /// <summary>Where the down ring's region starts.</summary>
    public const long DownRingOffset = HeaderLength;

    /// <summary>Where the up ring's region starts: after the down ring's, aligned.</summary>
    public static long UpRingOffset(int downCapacity) => AlignUp(DownRingOffset + RingLayout.RegionLength(downCapacity));

    /// <summary>Where a direction's ring starts, given the down ring's capacity.</summary>
    public static long RingOffset(ChannelDirection direction, int downCapacity) =>
        direction == ChannelDirection.Down ? DownRingOffset : UpRingOffset(downCapacity);

    /// <summary>The bytes a channel with rings of these capacities needs.</summary>
    public static long RegionLength(int downCapacity, int upCapacity) => UpRingOffset(downCapacity) + RingLayout.RegionLength(upCapacity);

    /// <summary>The bytes a channel with these options needs.</summary>
    public static long RegionLength(ChannelOptions options) => RegionLength(options.Down.Capacity, options.Up.Capacity);

    /// <summary>
    /// Lays out a new, empty channel in a region the caller owns (before any peer sees it): both
    /// rings, the geometry, zeroed counters, and the magic last. A bad option is the creator's
    /// mistake and throws.
    /// </summary>
    public static void Initialize(byte* region, long regionLength, ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(region);
        CheckDirection(options.Down, nameof(options));
        CheckDirection(options.Up, nameof(options));
        var length = RegionLength(options);
        if (regionLength < length)
            throw new ArgumentOutOfRangeException(nameof(regionLength), $"a channel of capacities {options.Down.Capacity} and {options.Up.Capacity} needs {length} bytes, the region has {regionLength}");

        // Zeroed first: the alignment gap and every reserved header byte read as zero, as a peer's check expects.
        new Span<byte>(region, HeaderLength).Clear();
        var upOffset = UpRingOffset(options.Down.Capacity);
        var downEnd = DownRingOffset + RingLayout.RegionLength(options.Down.Capacity);
        new Span<byte>(region + downEnd, (int)(upOffset - downEnd)).Clear();
        RingLayout.Initialize(region + DownRingOffset, RingLayout.RegionLength(options.Down.Capacity), options.Down.ToRingOptions());
        RingLayout.Initialize(region + upOffset, RingLayout.RegionLength(options.Up.Capacity), options.Up.ToRingOptions());

        var header = (ChannelHeader*)region;
        header->Version = Version;
        header->HeaderLength = HeaderLength;
        header->DownCapacity = options.Down.Capacity;
        header->UpCapacity = options.Up.Capacity;
        header->DownPolicy = options.Down.Policy;
        header->UpPolicy = options.Up.Policy;
        // The magic last, with release: a side that sees it sees the geometry and both rings.
        Volatile.Write(ref header->Magic, Magic);
    }

    /// <summary>A ring capacity both sides accept (the ring's own rule).</summary>
    internal static bool IsValidCapacity(int capacity) =>
        capacity >= RingLayout.MinCapacity && capacity <= RingLayout.MaxCapacity && BitOperations.IsPow2(capacity);

    internal static bool IsValidPolicy(ChannelOverflowPolicy policy) =>
        policy is ChannelOverflowPolicy.Block or ChannelOverflowPolicy.Drop;

    private static void CheckDirection(ChannelDirectionOptions options, string name)
    {
        if (!IsValidCapacity(options.Capacity))
            throw new ArgumentOutOfRangeException(name, $"capacity {options.Capacity} must be a power of two in [{RingLayout.MinCapacity}, {RingLayout.MaxCapacity}]");
        if (!IsValidPolicy(options.Policy))
            throw new ArgumentOutOfRangeException(name, $"overflow policy {options.Policy} is not one of Block, Drop");
        // The ring checks this too, but only once the region is half written: refuse before anything is.
        if (options.MaxRecordLength < 0 || options.MaxRecordLength > RingLayout.MaxPayloadFor(options.Capacity))
            throw new ArgumentOutOfRangeException(name, $"max record length {options.MaxRecordLength} must be in [0, {RingLayout.MaxPayloadFor(options.Capacity)}] for capacity {options.Capacity}");
    }

    private static long AlignUp(long offset) => (offset + RingAlignment - 1) & ~(long)(RingAlignment - 1);
}
