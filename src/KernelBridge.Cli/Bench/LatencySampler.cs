using System.Diagnostics;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// Times an operation over and over: a warm-up that also estimates its cost, then timings of one
/// operation each (or a small batch, for operations shorter than <see cref="BenchSettings.SampleNanoseconds"/>)
/// with <see cref="Stopwatch.GetTimestamp"/>, into an array allocated beforehand, until the
/// settings' duration is up. Nothing is allocated inside the timed loop.
/// </summary>
internal static class LatencySampler
{
    public static BenchResult Measure(BenchSettings settings, Action operation)
    {
        var timings = new long[settings.MaxSamples];
        var (batch, warmUpOperations) = WarmUp(settings, operation);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var deadline = Stopwatch.GetTimestamp() + Ticks(settings.Duration);
        var count = 0;
        long end;
        do
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < batch; i++) operation();
            end = Stopwatch.GetTimestamp();
            timings[count++] = end - start;
        }
        while (end < deadline && count < timings.Length);
        var timed = (long)count * batch;
        var clientBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)timed;
        var (median, p99) = Percentiles.MedianAndP99(timings.AsSpan(0, count));
        return BenchResult.Latency(Nanoseconds(median, batch), Nanoseconds(p99, batch), count, batch) with
        {
            Operations = warmUpOperations + timed,
            ClientBytesPerOperation = clientBytes,
        };
    }

    /// <summary>Runs the operation for the warm-up time; returns how many operations make one timing, and how many it ran.</summary>
    private static (int Batch, long Operations) WarmUp(BenchSettings settings, Action operation)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + Ticks(settings.WarmUp);
        long operations = 0;
        long now;
        do
        {
            operation();
            operations++;
            now = Stopwatch.GetTimestamp();
        }
        while (now < deadline);
        var nanosecondsEach = Math.Max(1.0, Nanoseconds(now - start, operations));
        return ((int)Math.Clamp(Math.Ceiling(settings.SampleNanoseconds / nanosecondsEach), 1, 1 << 16), operations);
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static double Nanoseconds(long ticks, long operations) => ticks * 1e9 / Stopwatch.Frequency / operations;
}
