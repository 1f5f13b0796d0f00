using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// The hot path allocates nothing: copying and zero-copy sends, copying and zero-copy receives,
/// and a wait that finds a record. Counted on the calling thread alone.
/// </summary>
public sealed class ChannelAllocationTests
{
    private const int Rounds = 100_000;

    [Fact]
    public void Sending_and_receiving_records_allocates_nothing()
    {
        using var channel = new TestChannel(TestChannel.Options(4096, maxRecord: 256), FutexDoorbell.Instance);
        var payload = new byte[40];
        var buffer = new byte[256];
        RoundTrips(channel, payload, buffer, 1000); // warm-up: tiering, statics
        var before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(channel, payload, buffer, Rounds);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RoundTrips(TestChannel channel, byte[] payload, byte[] buffer, int rounds)
    {
        var (sender, receiver) = channel.Way(ChannelDirection.Up);
        var timeout = TimeSpan.FromSeconds(10);
        for (var i = 0; i < rounds; i++)
        {
            Check(sender.Send(payload, timeout));
            Check(sender.Reserve((i & 63) + 1, timeout, out var reservation));
            reservation.Payload.Fill((byte)i);
            reservation.Commit();
            Check(receiver.Receive(buffer, out _, timeout));
            Check(receiver.TryReceive(out var record));
            if (record.Length != (i & 63) + 1) throw new InvalidOperationException($"round {i}: {record.Length} bytes");
        }
    }

    private static void Check(RingStatus status)
    {
        if (status != RingStatus.Ok) throw new InvalidOperationException(status.ToString());
    }
}
