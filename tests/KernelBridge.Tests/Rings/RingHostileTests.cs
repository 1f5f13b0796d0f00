using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// The test plays a hostile peer that scribbles on the shared region: each impossible index or
/// length is reported as its own status (sticky Corrupt for the protocol, a distinct status for a
/// bad header), with no exception, no access outside the region and no hang.
/// </summary>
public sealed unsafe class RingHostileTests
{
    public static TheoryData<bool> Producers => new() { false, true };

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_tail_moved_behind_the_reader_is_corrupt_and_stays_corrupt(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        for (var i = 0; i < 3; i++) ring.Write(i, 8);
        for (var i = 0; i < 3; i++) Assert.Equal(RingStatus.Ok, ring.Read().Status);
        ring.Reader.Release();
        ring.Header->Tail = 16; // behind the released head (48)
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
        ring.Header->Tail = 48; // put back: the reader does not trust the peer again
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
        Assert.Equal(RingStatus.Corrupt, ring.Reader.WaitForData(TimeSpan.FromSeconds(10)));
        Assert.Equal(RingStatus.Corrupt, ring.Reader.TrySkipAbandoned());
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_tail_more_than_the_capacity_ahead_is_corrupt(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        ring.Header->Tail = 256 + 8;
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_tail_moved_backwards_below_an_unread_record_is_corrupt(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        ring.Write(1, 8);
        ring.Write(2, 8);
        ring.Header->Tail = 16; // the second record (16..32) is no longer reserved
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Theory]
    [InlineData(256 + 100)] // beyond the area
    [InlineData(4)] // shorter than a record header
    [InlineData(int.MaxValue)]
    [InlineData(200)] // straddles the end: the record starts at 64
    public void A_committed_length_outside_the_area_is_corrupt(int length)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false));
        ring.Write(1, 56); // 0..64
        ring.Read();
        ring.Reader.Release();
        ring.Header->Tail = 256; // everything "reserved", so only the length is wrong
        ring.RecordAt(64)->Type = 1;
        ring.RecordAt(64)->Length = length;
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Fact]
    public void A_committed_record_past_the_reserved_space_is_corrupt()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false));
        ring.Write(1, 8); // 0..16, tail 16
        ring.RecordAt(16)->Type = 2; // a "record" the producer never reserved
        ring.RecordAt(16)->Length = 8 + 8;
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Theory]
    [InlineData(16, 0, 1, 17)] // a payload longer than the geometry allows
    [InlineData(0, 24, 1, 16)] // a fixed ring's record of another length
    [InlineData(0, 0, -7, 8)] // a negative type that is not padding
    public void A_record_the_geometry_forbids_is_corrupt(int maxPayload, int fixedPayload, int type, int payloadLength)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false, maxPayload, fixedPayload));
        ring.Header->Tail = 64;
        ring.RecordAt(0)->Type = type;
        ring.RecordAt(0)->Length = RingLayout.RecordHeaderLength + payloadLength;
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Fact]
    public void The_geometry_the_reader_attached_with_is_kept_whatever_the_peer_writes_later()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false, maxPayload: 16));
        ring.Header->Capacity = 1 << 20;
        ring.Header->MaxPayloadLength = 1 << 19;
        ring.Header->Tail = 64;
        ring.RecordAt(0)->Type = 1;
        ring.RecordAt(0)->Length = 8 + 100;
        Assert.Equal(RingStatus.Corrupt, ring.Read().Status);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_head_moved_past_the_writers_tail_is_corrupt_for_the_writer(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        while (ring.Write(1, 24) == RingStatus.Ok)
        {
        }
        ring.Header->Head = ring.Header->Tail + 64; // "released" what was never written
        Assert.Equal(RingStatus.Corrupt, ring.Write(1, 24));
        ring.Header->Head = 0;
        Assert.Equal(RingStatus.Corrupt, ring.Write(1, 24));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_head_moved_backwards_is_corrupt_for_the_writer(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        for (var i = 0; i < 6; i++) ring.Write(i, 24); // 192 bytes
        for (var i = 0; i < 6; i++) ring.Read();
        ring.Reader.Release();
        Assert.Equal(RingStatus.Ok, ring.Write(7, 104)); // padding 64 + slot 112: the writer looks at the head (192)
        Assert.Equal(368, ring.Header->Tail);
        ring.Header->Head = 180; // backwards, behind what the writer has seen
        Assert.Equal(RingStatus.Corrupt, ring.Write(8, 104));
    }

    [Fact]
    public void A_shared_tail_far_past_the_head_is_corrupt_for_a_multi_producer_writer()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: true));
        ring.Header->Tail = 10_000;
        Assert.Equal(RingStatus.Corrupt, ring.Write(1, 8));
        Assert.Equal(RingStatus.Corrupt, ring.Writer.WaitForSpace(8, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_bad_header_is_refused_with_its_own_status()
    {
        using var memory = SharedMemory.Create("kb-test-ring", RingLayout.RegionLength(256));
        var header = (RingHeader*)memory.Pointer;
        void Fresh() => RingLayout.Initialize(memory.Pointer, memory.Length, new RingOptions(256));
        RingStatus Attach() => RingReader.TryAttach(memory.Pointer, memory.Length, null, out _);
        RingStatus AttachWriter() => RingWriter.TryAttach(memory.Pointer, memory.Length, null, out _);

        Fresh();
        Assert.Equal(RingStatus.Ok, Attach());
        header->Magic ^= 1;
        Assert.Equal(RingStatus.WrongMagic, Attach());
        Assert.Equal(RingStatus.WrongMagic, AttachWriter());
        Fresh();
        header->Version = 2;
        Assert.Equal(RingStatus.UnsupportedVersion, Attach());
        Fresh();
        header->HeaderLength = 256;
        Assert.Equal(RingStatus.BadGeometry, Attach());
        Fresh();
        header->Capacity = 200; // not a power of two
        Assert.Equal(RingStatus.BadGeometry, Attach());
        Fresh();
        header->Capacity = 512; // larger than the region
        Assert.Equal(RingStatus.BadGeometry, AttachWriter());
        Fresh();
        header->MaxPayloadLength = 256; // a slot longer than half the capacity could never fit
        Assert.Equal(RingStatus.BadGeometry, Attach());
        Fresh();
        header->FixedPayloadLength = -8;
        Assert.Equal(RingStatus.BadGeometry, Attach());
        Fresh();
        header->Flags = (RingFlags)0x80;
        Assert.Equal(RingStatus.BadGeometry, Attach());
        Fresh();
        header->Tail = 1000;
        Assert.Equal(RingStatus.Corrupt, Attach());
        Assert.Equal(RingStatus.Corrupt, AttachWriter());
        Assert.Equal(RingStatus.BadGeometry, RingReader.TryAttach(memory.Pointer, 100, null, out _));
        Assert.Equal(RingStatus.BadGeometry, RingReader.TryAttach(null, memory.Length, null, out _));
    }

    /// <summary>
    /// Thousands of regions of random bytes under a valid geometry (the rest is the peer's garbage):
    /// the reader ends every one with a status that is not Ok within the bound its validation gives
    /// (each Ok consumes at least 8 bytes of at most a capacity), every payload it hands out lies in
    /// the data area, and nothing throws.
    /// </summary>
    [Fact]
    public void Random_garbage_never_throws_never_loops_and_never_points_outside_the_area()
    {
        const int Capacity = 512;
        using var memory = SharedMemory.Create("kb-test-ring", RingLayout.RegionLength(Capacity));
        var random = new Random(1234);
        var data = memory.Pointer + RingLayout.HeaderLength;
        var outcomes = new Dictionary<RingStatus, int>();
        for (var trial = 0; trial < 5000; trial++)
        {
            RingLayout.Initialize(memory.Pointer, memory.Length, new RingOptions(Capacity, MultiProducer: trial % 2 == 0));
            var header = (RingHeader*)memory.Pointer;
            random.NextBytes(new Span<byte>(data, Capacity));
            // Sometimes plausible-looking records: small lengths and types, so the reader gets past the first one.
            for (var offset = 0; offset < Capacity; offset += 8)
                if (random.Next(3) == 0)
                {
                    var record = (RingRecordHeader*)(data + offset);
                    record->Length = random.Next(-16, 80);
                    record->Type = random.Next(-2, 3);
                }
            header->Head = random.Next(0, 4) * 64L;
            header->Tail = header->Head + random.Next(-16, Capacity + 32);
            if (RingReader.TryAttach(memory.Pointer, memory.Length, null, out var reader) != RingStatus.Ok) continue;

            RingStatus status;
            var reads = 0;
            while ((status = reader!.TryRead(out var record)) == RingStatus.Ok)
            {
                var payload = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(record.Payload));
                Assert.True(payload >= data + RingLayout.RecordHeaderLength && payload + record.Payload.Length <= data + Capacity, "a payload outside the data area");
                Assert.True(++reads <= Capacity / 8, "the reader kept finding records past a capacity");
            }
            if (status == RingStatus.Corrupt) Assert.Equal(RingStatus.Corrupt, reader.TryRead(out _));
            outcomes[status] = outcomes.GetValueOrDefault(status) + 1;
            reader.Release();
        }
        Assert.True(outcomes.GetValueOrDefault(RingStatus.Corrupt) > 100, string.Join(", ", outcomes));
    }
}
