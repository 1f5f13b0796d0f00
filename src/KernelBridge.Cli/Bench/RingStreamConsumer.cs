using System.Buffers.Binary;
using System.Diagnostics;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The bench's side of a stream measurement: one thread taking records as they come, copying each
/// out once (as a careful consumer of shared memory must) and checking its sequence number. On the
/// bare ring it releases a quarter of the ring at a time and whenever it runs dry, as the channel's
/// receiver does; waits spin 20 µs, then sleep on the data doorbell. Nothing here allocates.
/// </summary>
internal sealed unsafe class RingStreamConsumer
{
    /// <summary>The clock is read once per this many records: a read costs about as much as a small record.</summary>
    private const int RecordsPerClockRead = 64;

    private readonly RingReader? _reader;
    private readonly ChannelReceiver? _receiver;
    private readonly byte[] _copy;
    private readonly int _releaseEvery;
    private long _expected;

    private RingStreamConsumer(RingStreamRegion region, RingReader? reader, ChannelReceiver? receiver)
    {
        _reader = reader;
        _receiver = receiver;
        _copy = GC.AllocateUninitializedArray<byte>(region.RecordBytes, pinned: true);
        _releaseEvery = RingStreamRegion.Capacity / 4;
    }

    /// <summary>Attaches to the region this process created (as the driver, receiving up).</summary>
    public static RingStreamConsumer Attach(RingStreamRegion region)
    {
        if (region.Kind == RingStreamKind.Ring)
        {
            var status = RingReader.TryAttach(region.Pointer, region.Length, FutexDoorbell.Instance, out var reader);
            return reader is null ? throw new BenchFailedException($"cannot attach to the stream's ring: {status}") : new(region, reader, null);
        }
        var attached = ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.Driver, FutexDoorbell.Instance, out var endpoint);
        return endpoint is null ? throw new BenchFailedException($"cannot attach to the stream's channel: {attached}") : new(region, null, endpoint.Receiver);
    }

    /// <summary>Takes records until the Stopwatch timestamp <paramref name="until"/>; returns how many.</summary>
    public long ConsumeUntil(long until) => _reader is not null ? ConsumeRing(_reader, until) : ConsumeChannel(_receiver!, until);

    private long ConsumeRing(RingReader reader, long until)
    {
        long count = 0;
        var unreleased = 0;
        while (true)
        {
            var status = reader.TryRead(out var record);
            if (status == RingStatus.Ok)
            {
                Take(record.Payload);
                unreleased += RingLayout.SlotLength(record.Payload.Length);
                if (unreleased >= _releaseEvery)
                {
                    reader.Release();
                    unreleased = 0;
                }
                if (++count % RecordsPerClockRead == 0 && Stopwatch.GetTimestamp() >= until) return count;
                continue;
            }
            reader.Release();
            unreleased = 0;
            if (Stopwatch.GetTimestamp() >= until) return count;
            if (status is RingStatus.Empty or RingStatus.Pending) status = reader.WaitForData(BaselineMeasurements.PeerTimeout);
            if (status != RingStatus.Ok) throw new BenchFailedException($"the stream's producer stopped: {status} after record {_expected - 1}");
        }
    }

    private long ConsumeChannel(ChannelReceiver receiver, long until)
    {
        long count = 0;
        while (true)
        {
            var status = receiver.Receive(_copy, out var length, BaselineMeasurements.PeerTimeout);
            if (status != RingStatus.Ok) throw new BenchFailedException($"the stream's sender stopped: {status} after record {_expected - 1}");
            Check(_copy.AsSpan(0, length));
            if (++count % RecordsPerClockRead == 0 && Stopwatch.GetTimestamp() >= until) return count;
        }
    }

    private void Take(ReadOnlySpan<byte> payload)
    {
        payload.CopyTo(_copy);
        Check(_copy.AsSpan(0, payload.Length));
    }

    private void Check(ReadOnlySpan<byte> record)
    {
        if (record.Length != _copy.Length || BinaryPrimitives.ReadInt64LittleEndian(record) != _expected)
            throw new BenchFailedException($"record {_expected} of the stream arrived as {record.Length} bytes numbered {(record.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(record) : -1)}");
        _expected++;
    }
}
