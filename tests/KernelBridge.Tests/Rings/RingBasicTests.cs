using KernelBridge.Abi.Rings;
using KernelBridge.TestClient;

namespace KernelBridge.Tests.Rings;

/// <summary>Every path of the ring in one thread: empty, full, exact fit, padding at the wrap, batches, fixed records.</summary>
public sealed unsafe class RingBasicTests
{
    public static TheoryData<bool> Producers => new() { false, true };

    [Theory]
    [MemberData(nameof(Producers))]
    public void An_empty_ring_reads_empty_and_a_wait_times_out(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Empty, ring.Read().Status);
        Assert.Equal(RingStatus.TimedOut, ring.Reader.WaitForData(TimeSpan.Zero));
        Assert.Equal(RingStatus.TimedOut, ring.Reader.WaitForData(TimeSpan.FromMilliseconds(30)));
        Assert.Equal(0, ring.Header->ConsumerSleeping);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_record_comes_back_with_its_type_and_payload(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Ok, ring.Writer.TryWrite(42, "hello, ring"u8));
        Assert.Equal(RingStatus.Ok, ring.Writer.TryWrite(0, ReadOnlySpan<byte>.Empty));
        var first = ring.Read();
        Assert.Equal((RingStatus.Ok, 42), (first.Status, first.Type));
        Assert.Equal("hello, ring"u8.ToArray(), first.Payload);
        var second = ring.Read();
        Assert.Equal((RingStatus.Ok, 0, 0), (second.Status, second.Type, second.Payload.Length));
        Assert.Equal(RingStatus.Empty, ring.Read().Status);
        Assert.Equal(RingStatus.TimedOut, ring.Reader.WaitForData(TimeSpan.Zero));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void Records_that_exactly_fill_the_capacity_all_fit_and_the_next_is_full(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        // 4 slots of 64 bytes (8 header + 56 payload): exactly the capacity, no padding.
        for (var i = 0; i < 4; i++) Assert.Equal(RingStatus.Ok, ring.Write(i, 56));
        Assert.Equal(256, ring.Header->Tail);
        Assert.Equal(RingStatus.Full, ring.Write(9, 0));
        for (var i = 0; i < 4; i++)
        {
            var (status, type, payload) = ring.Read();
            Assert.Equal((RingStatus.Ok, i, 56), (status, type, payload.Length));
        }
        Assert.Equal(RingStatus.Empty, ring.Read().Status);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_full_ring_takes_records_again_once_the_reader_releases(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        var written = 0;
        while (ring.Write(written, 20) == RingStatus.Ok) written++;
        Assert.Equal(256 / 32, written); // 8 + 20 rounds up to 32
        Assert.Equal(RingStatus.Full, ring.Write(99, 20));
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        // Read but not released: still full.
        Assert.Equal(RingStatus.Full, ring.Write(99, 20));
        ring.Reader.Release();
        Assert.Equal(256 + 0, ring.Header->Tail);
        Assert.Equal(32, ring.Header->Head);
        Assert.Equal(RingStatus.Ok, ring.Write(99, 20));
        Assert.Equal(RingStatus.Full, ring.Write(100, 20));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_record_that_would_straddle_the_end_goes_to_the_start_after_a_padding_record(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Ok, ring.Write(1, 88)); // slot 96
        Assert.Equal(RingStatus.Ok, ring.Write(2, 88)); // slot 96, tail 192
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        ring.Reader.Release();

        Assert.Equal(RingStatus.Ok, ring.Write(3, 88, fill: 0x33)); // 64 bytes to the end: padding, then the record at 0
        Assert.Equal(192 + 64 + 96, ring.Header->Tail);
        Assert.Equal(RingLayout.PaddingType, ring.RecordAt(192)->Type);
        Assert.Equal(64, ring.RecordAt(192)->Length);
        Assert.Equal(8 + 88, ring.RecordAt(256)->Length);

        var (status, type, payload) = ring.Read();
        Assert.Equal((RingStatus.Ok, 3), (status, type));
        Assert.All(payload, b => Assert.Equal(0x33, b));
        Assert.Equal(RingStatus.Empty, ring.Read().Status);
        ring.Reader.Release();
        Assert.Equal(352, ring.Header->Head);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_record_that_needs_padding_is_full_until_the_padding_fits_too(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Ok, ring.Write(1, 88));
        Assert.Equal(RingStatus.Ok, ring.Write(2, 88));
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        ring.Reader.Release();
        // Free: 64 bytes to the end plus 96 at the start. A slot of 104 needs the 64 of padding too: 168 > 160.
        Assert.Equal(RingStatus.Full, ring.Write(4, 90));
        Assert.Equal(192, ring.Header->Tail);
        // A slot of 96 needs exactly 160.
        Assert.Equal(RingStatus.Ok, ring.Write(3, 88));
        Assert.Equal(352, ring.Header->Tail);
        Assert.Equal(RingStatus.Full, ring.Write(4, 0));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void Many_wrap_arounds_with_random_sizes_deliver_every_record_intact_and_in_order(bool multiProducer)
    {
        const ulong Seed = 17;
        using var ring = new TestRing(TestRing.Options(1024, multiProducer));
        var maxPayload = ring.Writer.Geometry.MaxPayloadLength;
        var random = new Random(5);
        long written = 0, read = 0;
        ulong sent = 0, received = 0;
        while (read < 100_000)
        {
            for (var burst = random.Next(1, 20); burst > 0; burst--)
            {
                var length = RingTraffic.Length(Seed, written, maxPayload);
                if (ring.Writer.TryReserve(RingTraffic.Type(written), length, out var reservation) != RingStatus.Ok) break;
                RingTraffic.Fill(Seed, written, reservation.Payload);
                sent = RingTraffic.Checksum(sent, RingTraffic.Type(written), reservation.Payload);
                reservation.Commit();
                written++;
            }
            for (var burst = random.Next(1, 20); burst > 0; burst--)
            {
                var status = ring.Reader.TryRead(out var record);
                if (status == RingStatus.Empty) break;
                Assert.Equal(RingStatus.Ok, status);
                Assert.True(RingTraffic.Matches(Seed, read, maxPayload, record.Type, record.Payload), $"record {read}");
                received = RingTraffic.Checksum(received, record.Type, record.Payload);
                read++;
            }
            if (random.Next(3) == 0) ring.Reader.Release();
        }
        while (ring.Reader.TryRead(out var rest) == RingStatus.Ok)
        {
            Assert.True(RingTraffic.Matches(Seed, read, maxPayload, rest.Type, rest.Payload), $"record {read}");
            received = RingTraffic.Checksum(received, rest.Type, rest.Payload);
            read++;
        }
        Assert.Equal(written, read);
        Assert.Equal(sent, received);
        Assert.True(ring.Header->Tail > 100L * 1024, $"only {ring.Header->Tail} bytes went round");
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_batch_of_open_reservations_is_read_in_order_once_each_is_committed(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer));
        Span<int> lengths = [5, 0, 100, 7];
        var first = Reserve(ring, 0, lengths[0]);
        var second = Reserve(ring, 1, lengths[1]);
        var third = Reserve(ring, 2, lengths[2]);
        var fourth = Reserve(ring, 3, lengths[3]);
        Assert.Equal(RingStatus.Pending, ring.Read().Status);
        // Committed out of order: the reader still stops at the first uncommitted one.
        fourth.Commit();
        second.Commit();
        Assert.Equal(RingStatus.Pending, ring.Read().Status);
        first.Commit();
        var firstRead = ring.Read();
        Assert.Equal((RingStatus.Ok, 0, 5), (firstRead.Status, firstRead.Type, firstRead.Payload.Length));
        Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out var record));
        Assert.Equal(1, record.Type);
        Assert.Equal(RingStatus.Pending, ring.Read().Status);
        third.Commit();
        Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out record));
        Assert.Equal((2, 100), (record.Type, record.Payload.Length));
        Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out record));
        Assert.Equal((3, 7), (record.Type, record.Payload.Length));
        Assert.Equal(RingStatus.Empty, ring.Read().Status);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void Releasing_zeroes_the_released_bytes_and_publishes_the_head(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Ok, ring.Write(1, 40, fill: 0xFF));
        Assert.Equal(RingStatus.Ok, ring.Write(2, 40, fill: 0xFF));
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        Assert.Equal(0, ring.Header->Head);
        ring.Reader.Release();
        Assert.Equal(48, ring.Header->Head);
        Assert.True(new ReadOnlySpan<byte>(ring.Data, 48).IndexOfAnyExcept((byte)0) < 0, "the released record was not zeroed");
        Assert.Equal(0xFF, ring.Data[48 + 8]);
    }

    [Fact]
    public void Fixed_records_whose_slot_divides_the_capacity_never_need_padding()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false, fixedPayload: 24));
        for (long i = 0; i < 1000; i++)
        {
            var value = new Fixed24(i, ~i, (int)i);
            Assert.Equal(RingStatus.Ok, ring.Writer.TryWrite((int)(i & 0xFFFF), value));
            Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out var record));
            Assert.True(record.TryRead<Fixed24>(out var back));
            Assert.Equal(value, back);
            ring.Reader.Release();
            Assert.Equal((i + 1) * 32, ring.Header->Tail); // exactly one slot per record: no padding ever
        }
        Assert.Equal(RingStatus.InvalidRecord, ring.Writer.TryWrite(1, new byte[23]));
        Assert.Equal(RingStatus.InvalidRecord, ring.Writer.TryWrite(1, 5L));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_record_the_geometry_refuses_is_an_invalid_record_and_writes_nothing(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer, maxPayload: 100));
        Assert.Equal(RingStatus.InvalidRecord, ring.Writer.TryWrite(1, new byte[101]));
        Assert.Equal(RingStatus.InvalidRecord, ring.Writer.TryWrite(-1, new byte[1]));
        Assert.Equal(RingStatus.InvalidRecord, ring.Writer.TryReserve(1, -1, out _));
        Assert.Equal(0, ring.Header->Tail);
        Assert.Equal(RingStatus.Ok, ring.Writer.TryWrite(1, new byte[100]));
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void Notify_costs_no_wake_up_while_the_reader_is_awake_and_rings_once_when_it_sleeps(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        ring.Write(1, 1);
        ring.Writer.Notify();
        Assert.Equal(0u, ring.Header->DataSignal);

        Assert.Equal(RingStatus.Ok, ring.Reader.PrepareToSleep(out _)); // a record is there: do not sleep
        ring.Reader.FinishSleep();
        ring.Read();
        Assert.Equal(RingStatus.Empty, ring.Reader.PrepareToSleep(out var signal));
        Assert.Equal(1, ring.Header->ConsumerSleeping);
        ring.Write(2, 1);
        ring.Writer.Notify();
        ring.Writer.Notify();
        Assert.Equal(signal + 1, ring.Header->DataSignal); // once: the first Notify lowered the flag
        Assert.Equal(0, ring.Header->ConsumerSleeping);
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_reservation_never_committed_reads_as_pending_and_can_be_skipped_once_its_producer_is_dead(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        Assert.Equal(RingStatus.Ok, ring.Writer.TryReserve(5, 30, out var abandoned));
        abandoned.Payload.Fill(0xEE);
        Assert.Equal(RingStatus.Ok, ring.Write(6, 3, fill: 0x66));
        Assert.Equal(RingStatus.Pending, ring.Read().Status);
        Assert.Equal(RingStatus.Stalled, ring.Reader.WaitForData(TimeSpan.FromMilliseconds(20)));
        Assert.Equal(RingStatus.Ok, ring.Reader.TrySkipAbandoned());
        var (status, type, payload) = ring.Read();
        Assert.Equal((RingStatus.Ok, 6), (status, type));
        Assert.Equal(new byte[] { 0x66, 0x66, 0x66 }, payload);
        Assert.Equal(RingStatus.Empty, ring.Reader.TrySkipAbandoned());
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void A_writer_and_a_reader_attached_later_carry_on_where_the_ring_is(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer));
        for (var i = 0; i < 5; i++) ring.Write(i, 40);
        for (var i = 0; i < 3; i++) ring.Read();
        ring.Reader.Release();
        Assert.Equal(RingStatus.Ok, RingWriter.TryAttach(ring.Memory.Pointer, ring.Memory.Length, null, out var writer));
        Assert.Equal(RingStatus.Ok, RingReader.TryAttach(ring.Memory.Pointer, ring.Memory.Length, null, out var reader));
        Assert.Equal(RingStatus.Ok, writer!.TryWrite(5, new byte[40]));
        for (var i = 3; i < 6; i++)
        {
            Assert.Equal(RingStatus.Ok, reader!.TryRead(out var record));
            Assert.Equal(i, record.Type);
        }
    }

    private static RingReservation Reserve(TestRing ring, int type, int length)
    {
        Assert.Equal(RingStatus.Ok, ring.Writer.TryReserve(type, length, out var reservation));
        return reservation;
    }

    private readonly record struct Fixed24(long A, long B, int C);
}
