namespace KernelBridge.Abi.Rings;

/// <summary>
/// What both sides of a ring hold once attached: the region's pointers and the constants derived
/// from its validated geometry (a private copy: the peer's later writes to the header change nothing).
/// </summary>
internal readonly unsafe struct RingRegion
{
    public readonly RingHeader* Header;
    public readonly byte* Data;
    public readonly int Capacity;
    public readonly int Mask;
    public readonly int MaxPayload;
    public readonly int FixedPayload;
    public readonly RingGeometry Geometry;

    private RingRegion(byte* region, RingGeometry geometry)
    {
        Header = (RingHeader*)region;
        Data = region + RingLayout.HeaderLength;
        Capacity = geometry.Capacity;
        Mask = geometry.Capacity - 1;
        MaxPayload = geometry.MaxPayloadLength;
        FixedPayload = geometry.FixedPayloadLength;
        Geometry = geometry;
    }

    /// <summary>Checks the geometry, then the indices as they are now: the head not past the tail, the tail at most a capacity ahead.</summary>
    public static RingStatus TryAttach(byte* region, long regionLength, out RingRegion ring, out long head, out long tail)
    {
        ring = default;
        head = tail = 0;
        var status = RingGeometry.TryRead(region, regionLength, out var geometry);
        if (status != RingStatus.Ok) return status;
        var header = (RingHeader*)region;
        head = Volatile.Read(ref header->Head);
        tail = Volatile.Read(ref header->Tail);
        if (head < 0 || tail < head || tail - head > geometry.Capacity) return RingStatus.Corrupt;
        ring = new RingRegion(region, geometry);
        return RingStatus.Ok;
    }

    /// <summary>The record header at a position (always inside the data area: the offset is masked).</summary>
    public RingRecordHeader* RecordAt(long position) => (RingRecordHeader*)(Data + ((int)position & Mask));

    /// <summary>The bytes a record of this length (header included) occupies.</summary>
    public static int SlotOf(int recordLength) => (recordLength + RingLayout.RecordAlignment - 1) & ~(RingLayout.RecordAlignment - 1);
}
