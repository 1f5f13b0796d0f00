namespace KernelBridge.Cli.Bench;

/// <summary>Nearest-rank percentiles of timings (sorted in place).</summary>
internal static class Percentiles
{
    /// <summary>Sorts <paramref name="values"/> and returns its median and 99th percentile.</summary>
    public static (long Median, long P99) MedianAndP99(Span<long> values)
    {
        if (values.IsEmpty) throw new ArgumentException("no timings to take percentiles of", nameof(values));
        values.Sort();
        return (At(values, 0.50), At(values, 0.99));
    }

    /// <summary>The smallest value at or above a fraction <paramref name="rank"/> of the sorted values.</summary>
    public static long At(ReadOnlySpan<long> sorted, double rank)
    {
        var index = (int)Math.Ceiling(rank * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}
