using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// Streaming throughput between two processes over shared memory: a peer (`kbridge bench-peer
/// ring-stream`) produces records flat out, the bench consumes and counts them for the run's
/// duration, after a warm-up. The bare ring is the baseline; the shared channel is the same ring
/// with the channel on top, so its ratio is the channel's overhead. One thread a side, each
/// spinning at most 20 µs before it sleeps on a futex: fit for two cores.
/// Each stream is measured once per run: its rate in GB/s is the same measurement in other units.
/// </summary>
internal static class RingStreamMeasurements
{
    public const int SmallRecord = 64;
    public const int LargeRecord = 64 * 1024;

    // Per run (per context): a stream's records/s measurement, which its GB/s row reuses.
    private static readonly ConditionalWeakTable<BenchContext, Dictionary<(RingStreamKind, int), BenchResult>> Measured = [];

    public static BenchResult BareRingSmall(BenchContext context) => Records(context, RingStreamKind.Ring, SmallRecord);

    public static BenchResult BareRingSmallBytes(BenchContext context) => Gigabytes(context, RingStreamKind.Ring, SmallRecord);

    public static BenchResult BareRingLarge(BenchContext context) => Records(context, RingStreamKind.Ring, LargeRecord);

    public static BenchResult BareRingLargeBytes(BenchContext context) => Gigabytes(context, RingStreamKind.Ring, LargeRecord);

    public static BenchResult ChannelSmall(BenchContext context) => Records(context, RingStreamKind.Channel, SmallRecord);

    public static BenchResult ChannelSmallBytes(BenchContext context) => Gigabytes(context, RingStreamKind.Channel, SmallRecord);

    public static BenchResult ChannelLarge(BenchContext context) => Records(context, RingStreamKind.Channel, LargeRecord);

    public static BenchResult ChannelLargeBytes(BenchContext context) => Gigabytes(context, RingStreamKind.Channel, LargeRecord);

    /// <summary>
    /// Records per second, measured now (and kept for the GB/s row). The channel, a KernelBridge
    /// measurement, also counts the kernel process's allocation, as the others do: it takes no part
    /// in the stream, and the figure says so.
    /// </summary>
    private static BenchResult Records(BenchContext context, RingStreamKind kind, int recordBytes)
    {
        var result = kind == RingStreamKind.Channel
            ? KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () => Measure(context, kind, recordBytes))
            : Measure(context, kind, recordBytes);
        Measured.GetOrCreateValue(context)[(kind, recordBytes)] = result;
        return result;
    }

    /// <summary>The same stream in GB/s (10^9 payload bytes): the records/s measurement of this run, or a new one if it was not made.</summary>
    private static BenchResult Gigabytes(BenchContext context, RingStreamKind kind, int recordBytes)
    {
        if (!Measured.GetOrCreateValue(context).TryGetValue((kind, recordBytes), out var records)) records = Records(context, kind, recordBytes);
        return BenchResult.Throughput(records.PerSecond!.Value * recordBytes / 1e9, records.Samples) with
        {
            Operations = records.Operations,
            ClientBytesPerOperation = records.ClientBytesPerOperation,
            KernelBytesPerOperation = records.KernelBytesPerOperation,
        };
    }

    private static BenchResult Measure(BenchContext context, RingStreamKind kind, int recordBytes)
    {
        using var region = RingStreamRegion.Create(kind, recordBytes);
        var consumer = RingStreamConsumer.Attach(region);
        // Disposed before the region: the peer is killed (by pid) before the memory goes.
        using var peer = context.StartPeer(BenchPeerCommand.RingStreamMode, kind.ToString().ToLowerInvariant(), recordBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), region.Path);
        var settings = context.Settings;
        var warmUp = consumer.ConsumeUntil(Stopwatch.GetTimestamp() + Ticks(settings.WarmUp));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var count = consumer.ConsumeUntil(start + Ticks(settings.Duration));
        var elapsed = Stopwatch.GetElapsedTime(start);
        var clientBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Math.Max(1, count);
        if (count == 0) throw new BenchFailedException($"the {kind} stream moved no record in {elapsed.TotalSeconds:0.0} s");
        return BenchResult.Throughput(count / elapsed.TotalSeconds, (int)Math.Min(int.MaxValue, count)) with
        {
            Operations = warmUp + count,
            ClientBytesPerOperation = clientBytes,
        };
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
