using System.Numerics;

namespace KernelBridge.Abi.Rings;

/// <summary>The constants of the ring layout and the creator's one-time initialisation of a region.</summary>
public static unsafe class RingLayout
{
    /// <summary>"KBRG" in memory order.</summary>
    public const uint Magic = 0x4752_424B;

    public const ushort Version = 1;

    /// <summary>The shared header's length; the data area follows it.</summary>
    public const int HeaderLength = 512;

    /// <summary>Every record starts with a <see cref="RingRecordHeader"/>.</summary>
    public const int RecordHeaderLength = 8;

    /// <summary>Records start on multiples of this (so a payload can hold any 8-byte-aligned struct).</summary>
    public const int RecordAlignment = 8;

    /// <summary>The type of a padding record: space a producer skipped so that a record does not straddle the end.</summary>
    public const int PaddingType = -1;

    public const int MinCapacity = 64;

    /// <summary>Offsets stay in an int.</summary>
    public const int MaxCapacity = 1 << 30;

    /// <summary>The bytes a ring of this capacity needs: header plus data area.</summary>
    public static long RegionLength(int capacity) => HeaderLength + (long)capacity;

    /// <summary>The bytes a record with this payload occupies in the data area.</summary>
    public static int SlotLength(int payloadLength) => RingRegion.SlotOf(RecordHeaderLength + payloadLength);

    /// <summary>The largest payload a ring of this capacity allows: its slot is half the capacity, so a record always fits once the ring drains.</summary>
    public static int MaxPayloadFor(int capacity) => capacity / 2 - RecordHeaderLength;

    /// <summary>
    /// Lays out a new, empty ring in a region the caller owns (before any peer sees it): zeroes the
    /// header and data area and writes the geometry. A bad option is the creator's mistake and throws.
    /// </summary>
    public static void Initialize(byte* region, long regionLength, RingOptions options)
    {
        var capacity = options.Capacity;
        if (capacity < MinCapacity || capacity > MaxCapacity || !BitOperations.IsPow2(capacity))
            throw new ArgumentOutOfRangeException(nameof(options), $"capacity {capacity} must be a power of two in [{MinCapacity}, {MaxCapacity}]");
        if (regionLength < RegionLength(capacity))
            throw new ArgumentOutOfRangeException(nameof(regionLength), $"a ring of capacity {capacity} needs {RegionLength(capacity)} bytes, the region has {regionLength}");
        var maxPayload = options.MaxPayloadLength == 0 ? MaxPayloadFor(capacity) : options.MaxPayloadLength;
        if (maxPayload < 0 || maxPayload > MaxPayloadFor(capacity))
            throw new ArgumentOutOfRangeException(nameof(options), $"max payload {maxPayload} must be in [0, {MaxPayloadFor(capacity)}] for capacity {capacity}");
        if (options.FixedPayloadLength < 0 || options.FixedPayloadLength > maxPayload)
            throw new ArgumentOutOfRangeException(nameof(options), $"fixed payload {options.FixedPayloadLength} must be in [0, {maxPayload}]");

        new Span<byte>(region, HeaderLength).Clear();
        // The data area zeroed: "length 0" is what free space must read as (docs/rings.md). At most 1 GiB: one span.
        new Span<byte>(region + HeaderLength, capacity).Clear();
        var header = (RingHeader*)region;
        header->Version = Version;
        header->HeaderLength = HeaderLength;
        header->Capacity = capacity;
        header->MaxPayloadLength = maxPayload;
        header->FixedPayloadLength = options.FixedPayloadLength;
        header->Flags = options.MultiProducer ? RingFlags.MultiProducer : RingFlags.None;
        // The magic last, with release: a peer that sees it sees the rest.
        Volatile.Write(ref header->Magic, Magic);
    }
}

/// <summary>
/// The geometry a creator chooses. <paramref name="MaxPayloadLength"/> 0 means the largest the
/// capacity allows; <paramref name="FixedPayloadLength"/> non-zero makes every record that long
/// (with a slot that divides the capacity, no padding is ever needed).
/// </summary>
public readonly record struct RingOptions(int Capacity, int MaxPayloadLength = 0, int FixedPayloadLength = 0, bool MultiProducer = false);
