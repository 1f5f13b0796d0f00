using System.Buffers.Binary;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The peer's side of a stream measurement: one thread writing records of the region's size as
/// fast as the bench takes them, each a copy of one source buffer stamped with its sequence
/// number. On the bare ring it rings the doorbell every 16 records and before it waits (the ring's
/// intended batching); through the channel every Send does its own. A full ring spins 20 µs, then
/// sleeps on the space doorbell. It stops when a wait for space outlasts the idle limit (the
/// bench is gone); the bench kills it by pid when done.
/// </summary>
internal sealed unsafe class RingStreamProducer
{
    private const int NotifyEvery = 16;

    private readonly RingStreamRegion _region;
    private readonly RingWriter? _writer;
    private readonly ChannelSender? _sender;
    private readonly byte[] _source;

    private RingStreamProducer(RingStreamRegion region, RingWriter? writer, ChannelSender? sender)
    {
        _region = region;
        _writer = writer;
        _sender = sender;
        _source = new byte[region.RecordBytes];
        Random.Shared.NextBytes(_source);
    }

    /// <summary>Attaches to the bench's ring or channel (as the user process, sending up).</summary>
    public static RingStreamProducer Attach(RingStreamRegion region)
    {
        if (region.Kind == RingStreamKind.Ring)
        {
            var status = RingWriter.TryAttach(region.Pointer, region.Length, FutexDoorbell.Instance, out var writer);
            return writer is null ? throw new BenchFailedException($"cannot attach to the bench's ring: {status}") : new(region, writer, null);
        }
        var attached = ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.User, FutexDoorbell.Instance, out var endpoint);
        return endpoint is null ? throw new BenchFailedException($"cannot attach to the bench's channel: {attached}") : new(region, null, endpoint.Sender);
    }

    /// <summary>Writes records until a wait for space outlasts <paramref name="idleLimit"/> (or the process is killed).</summary>
    public void Run(TimeSpan idleLimit)
    {
        if (_writer is not null) RunRing(_writer, idleLimit);
        else RunChannel(_sender!, idleLimit);
    }

    private void RunRing(RingWriter writer, TimeSpan idleLimit)
    {
        for (long sequence = 0; ; sequence++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_source, sequence);
            var status = writer.TryWrite(0, _source);
            while (status == RingStatus.Full)
            {
                writer.Notify();
                status = writer.WaitForSpace(_region.RecordBytes, idleLimit);
                if (status != RingStatus.Ok) return;
                status = writer.TryWrite(0, _source);
            }
            if (status != RingStatus.Ok) throw new BenchFailedException($"the stream's ring refused record {sequence}: {status}");
            if (sequence % NotifyEvery == NotifyEvery - 1) writer.Notify();
        }
    }

    private void RunChannel(ChannelSender sender, TimeSpan idleLimit)
    {
        for (long sequence = 0; ; sequence++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_source, sequence);
            var status = sender.Send(_source, idleLimit);
            if (status == RingStatus.TimedOut) return;
            if (status != RingStatus.Ok) throw new BenchFailedException($"the stream's channel refused record {sequence}: {status}");
        }
    }
}
