using System.Numerics;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// A private, validated copy of a ring's geometry, read once when a side attaches: nothing the
/// peer writes into the header later changes what this side believes about capacity or lengths.
/// </summary>
public readonly struct RingGeometry
{
    public int Capacity { get; }
    public int MaxPayloadLength { get; }

    /// <summary>Non-zero: every record's payload is exactly this long.</summary>
    public int FixedPayloadLength { get; }
    public bool MultiProducer { get; }

    private RingGeometry(int capacity, int maxPayload, int fixedPayload, bool multiProducer)
    {
        Capacity = capacity;
        MaxPayloadLength = maxPayload;
        FixedPayloadLength = fixedPayload;
        MultiProducer = multiProducer;
    }

    /// <summary>Reads and checks the header of a region the peer may have written anything into.</summary>
    public static unsafe RingStatus TryRead(byte* region, long regionLength, out RingGeometry geometry)
    {
        geometry = default;
        if (region is null || regionLength < RingLayout.HeaderLength + RingLayout.MinCapacity) return RingStatus.BadGeometry;
        var header = (RingHeader*)region;
        // Acquire on the magic pairs with the creator's release: the fields below are the creator's.
        if (Volatile.Read(ref header->Magic) != RingLayout.Magic) return RingStatus.WrongMagic;
        if (header->Version != RingLayout.Version) return RingStatus.UnsupportedVersion;
        if (header->HeaderLength != RingLayout.HeaderLength) return RingStatus.BadGeometry;

        var capacity = header->Capacity;
        var maxPayload = header->MaxPayloadLength;
        var fixedPayload = header->FixedPayloadLength;
        var flags = header->Flags;
        if (capacity < RingLayout.MinCapacity || capacity > RingLayout.MaxCapacity || !BitOperations.IsPow2(capacity)) return RingStatus.BadGeometry;
        if (RingLayout.RegionLength(capacity) > regionLength) return RingStatus.BadGeometry;
        if (maxPayload < 0 || maxPayload > RingLayout.MaxPayloadFor(capacity)) return RingStatus.BadGeometry;
        if (fixedPayload < 0 || fixedPayload > maxPayload) return RingStatus.BadGeometry;
        if ((flags & ~RingFlags.MultiProducer) != 0) return RingStatus.BadGeometry;

        geometry = new RingGeometry(capacity, maxPayload, fixedPayload, (flags & RingFlags.MultiProducer) != 0);
        return RingStatus.Ok;
    }
}
