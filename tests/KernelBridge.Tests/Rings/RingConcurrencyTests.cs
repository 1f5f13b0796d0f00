using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.TestClient;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// Producer and consumer threads at full speed, with random record sizes and the futex doorbell:
/// every record arrives intact, in its producer's order, and the checksums of what was sent and
/// what was received agree. Every wait is bounded; a failing side cancels the other.
/// </summary>
public sealed class RingConcurrencyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    [Fact]
    public void A_million_records_from_one_producer_thread_arrive_intact_and_in_order()
    {
        using var ring = new TestRing(TestRing.Options(64 * 1024, multiProducer: false, maxPayload: 1024), FutexDoorbell.Instance);
        var result = Run(ring, producers: 1, perProducer: 1_000_000);
        Assert.True(result.Error is null, result.Error);
        Assert.Equal(result.Sent, result.Received);
        Assert.True(ring.Tail > 100L * 64 * 1024, "the ring did not wrap around many times");
    }

    [Fact]
    public void Four_producer_threads_share_a_ring_and_each_ones_records_arrive_intact_and_in_order()
    {
        using var ring = new TestRing(TestRing.Options(16 * 1024, multiProducer: true, maxPayload: 512), FutexDoorbell.Instance);
        var result = Run(ring, producers: 4, perProducer: 250_000);
        Assert.True(result.Error is null, result.Error);
        Assert.Equal(result.Sent, result.Received);
    }

    [Fact]
    public async Task A_producer_waiting_for_space_is_woken_by_the_reader_releasing()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false), FutexDoorbell.Instance);
        ring.Writer.SpinTime = TimeSpan.Zero;
        while (ring.Write(1, 56) == RingStatus.Ok)
        {
        }
        var signal = ring.SpaceSignal;
        var waiter = Task.Run(() => ring.Writer.WaitForSpace(56, Patience));
        Assert.True(SpinWait.SpinUntil(() => ring.ProducersSleeping != 0, Patience), "the writer never went to sleep");
        Assert.Equal(RingStatus.Ok, ring.Read().Status);
        ring.Reader.Release();
        Assert.Equal(RingStatus.Ok, await waiter.WaitAsync(Patience));
        Assert.Equal(signal + 1, ring.SpaceSignal);
        Assert.Equal(RingStatus.Ok, ring.Write(2, 56));
    }

    [Fact]
    public async Task Cancelling_a_sleeping_reader_or_writer_ends_its_wait_at_once()
    {
        using var ring = new TestRing(TestRing.Options(256, multiProducer: false), FutexDoorbell.Instance);
        ring.Reader.SpinTime = TimeSpan.Zero;
        var reading = Task.Run(() => ring.Reader.WaitForData(Patience));
        Assert.True(SpinWait.SpinUntil(() => ring.ConsumerSleeping != 0, Patience), "the reader never went to sleep");
        ring.Reader.Cancel();
        Assert.Equal(RingStatus.Cancelled, await reading.WaitAsync(Patience));

        while (ring.Write(1, 56) == RingStatus.Ok)
        {
        }
        ring.Writer.SpinTime = TimeSpan.Zero;
        var writing = Task.Run(() => ring.Writer.WaitForSpace(56, Patience));
        Assert.True(SpinWait.SpinUntil(() => ring.ProducersSleeping != 0, Patience), "the writer never went to sleep");
        ring.Writer.Cancel();
        Assert.Equal(RingStatus.Cancelled, await writing.WaitAsync(Patience));
    }

    private sealed record Outcome(ulong Sent, ulong Received, string? Error);

    /// <summary>Producer p writes stream p (seed p) as records of type = index; the reader checks each stream's order and bytes.</summary>
    private static Outcome Run(TestRing ring, int producers, long perProducer)
    {
        var maxPayload = ring.Writer.Geometry.MaxPayloadLength;
        var sent = new ulong[producers];
        string? error = null;
        void Fail(string message)
        {
            Interlocked.CompareExchange(ref error, message, null);
            ring.Reader.Cancel();
            ring.Writer.Cancel();
        }

        var threads = new List<Thread>();
        for (var p = 0; p < producers; p++)
        {
            var producer = p;
            threads.Add(new Thread(() =>
            {
                ulong sum = 0;
                var seed = (ulong)producer;
                for (long i = 0; i < perProducer; i++)
                {
                    var length = RingTraffic.Length(seed, i, maxPayload);
                    // Type: the producer in the top bits, the index below, so the reader can tell the streams apart.
                    var type = (producer << 24) | (int)(i & 0xFF_FFFF);
                    RingReservation reservation;
                    var status = ring.Writer.TryReserve(type, length, out reservation);
                    while (status == RingStatus.Full)
                    {
                        ring.Writer.Notify();
                        status = ring.Writer.WaitForSpace(length, Patience);
                        if (status == RingStatus.Ok) status = ring.Writer.TryReserve(type, length, out reservation);
                    }
                    if (status != RingStatus.Ok)
                    {
                        Fail($"producer {producer}: {status} at {i}");
                        return;
                    }
                    RingTraffic.Fill(seed, i, reservation.Payload);
                    sum = RingTraffic.Checksum(sum, type, reservation.Payload);
                    reservation.Commit();
                    if ((i & 31) == 31) ring.Writer.Notify();
                }
                ring.Writer.Notify();
                sent[producer] = sum;
            }) { IsBackground = true, Name = $"ring producer {p}" });
        }

        var next = new long[producers];
        var received = new ulong[producers];
        var reader = new Thread(() =>
        {
            var total = producers * perProducer;
            for (long n = 0; n < total;)
            {
                var status = ring.Reader.TryRead(out var record);
                if (status == RingStatus.Ok)
                {
                    var producer = record.Type >> 24;
                    if ((uint)producer >= (uint)producers)
                    {
                        Fail($"a record of type {record.Type}");
                        return;
                    }
                    var index = next[producer]++;
                    var payloadType = record.Type & 0xFF_FFFF;
                    if (payloadType != (int)(index & 0xFF_FFFF) || !RingTraffic.Matches((ulong)producer, index, maxPayload, RingTraffic.Type(index), record.Payload))
                    {
                        Fail($"producer {producer}'s record {index} is not what was sent");
                        return;
                    }
                    received[producer] = RingTraffic.Checksum(received[producer], record.Type, record.Payload);
                    if ((++n & 63) == 0) ring.Reader.Release();
                    continue;
                }
                ring.Reader.Release();
                if (status is RingStatus.Empty or RingStatus.Pending) status = ring.Reader.WaitForData(Patience);
                if (status != RingStatus.Ok)
                {
                    Fail($"reader: {status} after {n} records");
                    return;
                }
            }
            ring.Reader.Release();
        }) { IsBackground = true, Name = "ring reader" };

        threads.Add(reader);
        foreach (var thread in threads) thread.Start();
        var deadline = DateTime.UtcNow + Bound;
        foreach (var thread in threads)
        {
            if (!thread.Join(deadline - DateTime.UtcNow > TimeSpan.Zero ? deadline - DateTime.UtcNow : TimeSpan.Zero))
            {
                Fail($"{thread.Name} did not finish within {Bound}");
                foreach (var other in threads) other.Join(Patience + Patience);
                break;
            }
        }
        return new Outcome(Combine(sent), Combine(received), error);
    }

    private static ulong Combine(ulong[] sums) => sums.Aggregate(17UL, (all, one) => RingTraffic.Checksum(all, 0, BitConverter.GetBytes(one)));
}
