using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// The push/pop path allocates nothing: reserve, commit, write, notify, wait (with data there),
/// read, release. Counted on the calling thread alone, so the rest of the process cannot blur it.
/// </summary>
public sealed class RingAllocationTests
{
    private const int Rounds = 100_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pushing_and_popping_records_allocates_nothing(bool multiProducer)
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer), FutexDoorbell.Instance);
        var payload = new byte[40];
        RoundTrips(ring, payload, 1000); // warm-up: tiering, statics
        var before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(ring, payload, Rounds);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    private static void RoundTrips(TestRing ring, byte[] payload, int rounds)
    {
        var writer = ring.Writer;
        var reader = ring.Reader;
        for (var i = 0; i < rounds; i++)
        {
            // A batch: a copied record, a reserved-and-filled one and a fixed-size one; one doorbell.
            Check(writer.TryWrite(1, payload));
            Check(writer.TryReserve(2, (i & 63) + 1, out var reservation));
            reservation.Payload.Fill((byte)i);
            reservation.Commit();
            Check(writer.TryWrite(3, (long)i));
            writer.Notify();

            Check(reader.WaitForData(TimeSpan.FromSeconds(5)));
            for (var n = 0; n < 3; n++)
            {
                Check(reader.TryRead(out var record));
                if (record.Type == 3 && (!record.TryRead<long>(out var value) || value != i)) Assert.Fail("the fixed record came back wrong");
            }
            reader.Release();
        }
    }

    private static void Check(RingStatus status)
    {
        if (status != RingStatus.Ok) Assert.Fail($"ring operation: {status}");
    }
}
