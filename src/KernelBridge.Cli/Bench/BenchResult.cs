namespace KernelBridge.Cli.Bench;

/// <summary>
/// What one measurement found: a latency (median and p99 per operation, in nanoseconds) or a
/// throughput (operations per second). Exactly one of the two is set.
/// </summary>
internal sealed record BenchResult
{
    private BenchResult(double? medianNs, double? p99Ns, double? perSecond, int samples, int operationsPerSample)
    {
        MedianNs = medianNs;
        P99Ns = p99Ns;
        PerSecond = perSecond;
        Samples = samples;
        OperationsPerSample = operationsPerSample;
    }

    public double? MedianNs { get; }
    public double? P99Ns { get; }
    public double? PerSecond { get; }

    /// <summary>How many timings the statistics came from (for a throughput, how many operations were counted).</summary>
    public int Samples { get; }

    /// <summary>Operations in one timing: 1, or a small batch for operations shorter than a clock read is worth.</summary>
    public int OperationsPerSample { get; }

    /// <summary>Every operation run, warm-up included (what allocation is divided by).</summary>
    public long Operations { get; init; }

    /// <summary>Bytes the measuring thread allocated per operation while timing (null where not measured).</summary>
    public double? ClientBytesPerOperation { get; init; }

    /// <summary>Bytes the kernel process allocated per operation, warm-up included (null where not measured).</summary>
    public double? KernelBytesPerOperation { get; init; }

    public bool IsThroughput => PerSecond is not null;

    /// <summary>The figure a ratio compares: the median, or operations per second.</summary>
    public double Value => PerSecond ?? MedianNs!.Value;

    /// <summary>The cost of one operation, whichever way it was measured (what a chart on one axis shows).</summary>
    public double NanosecondsPerOperation => MedianNs ?? 1e9 / PerSecond!.Value;

    /// <summary>This result in <paramref name="unit"/>'s terms: a median as a rate, or a rate as a time per operation.</summary>
    public double ValueAs(BenchResult unit) => unit.IsThroughput == IsThroughput ? Value : unit.IsThroughput ? 1e9 / MedianNs!.Value : 1e9 / PerSecond!.Value;

    public static BenchResult Latency(double medianNs, double p99Ns, int samples, int operationsPerSample)
    {
        if (!(medianNs > 0) || !(p99Ns >= medianNs)) throw new ArgumentOutOfRangeException(nameof(medianNs), $"a latency needs 0 < median ≤ p99, not {medianNs} and {p99Ns}");
        return new(medianNs, p99Ns, null, samples, operationsPerSample);
    }

    public static BenchResult Throughput(double perSecond, int operations)
    {
        if (!(perSecond > 0)) throw new ArgumentOutOfRangeException(nameof(perSecond), $"a throughput must be positive, not {perSecond}");
        return new(null, null, perSecond, operations, 1);
    }
}
