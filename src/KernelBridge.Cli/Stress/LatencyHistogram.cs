using System.Globalization;
using System.Numerics;
using System.Text;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// Operation latencies in log-linear buckets (8 per power of two, so a percentile is within 12.5%),
/// recorded without allocating and merged across threads and processes. A bucket's value is its
/// upper bound, so a reported percentile never understates.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBuckets = 8;
    private const int SubBits = 3;
    private readonly long[] _counts = new long[64 * SubBuckets];

    public long Count { get; private set; }

    public void Record(long nanoseconds)
    {
        _counts[Bucket(Math.Max(1, nanoseconds))]++;
        Count++;
    }

    private static int Bucket(long value)
    {
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        if (exponent < SubBits) return (int)value;
        var sub = (int)((value >> (exponent - SubBits)) & (SubBuckets - 1));
        return exponent * SubBuckets + sub;
    }

    private static long UpperBound(int bucket)
    {
        var exponent = bucket / SubBuckets;
        if (exponent < SubBits) return bucket;
        var sub = bucket % SubBuckets;
        return (long)(SubBuckets + sub + 1) << (exponent - SubBits);
    }

    /// <summary>The latency (ns) at or below which <paramref name="fraction"/> of the operations fell; 0 if none.</summary>
    public long Percentile(double fraction)
    {
        if (Count == 0) return 0;
        var rank = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank && _counts[i] > 0) return UpperBound(i);
        }
        return UpperBound(_counts.Length - 1);
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
    }

    /// <summary>"bucket:count,..." for the non-empty buckets (how a worker hands its histogram to the runner).</summary>
    public string Encode()
    {
        var text = new StringBuilder();
        for (var i = 0; i < _counts.Length; i++)
            if (_counts[i] > 0) text.Append(CultureInfo.InvariantCulture, $"{(text.Length > 0 ? "," : "")}{i}:{_counts[i]}");
        return text.ToString();
    }

    /// <summary>Adds what <see cref="Encode"/> wrote; false if <paramref name="text"/> is not that shape.</summary>
    public bool TryAddEncoded(string text)
    {
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var bucket)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || bucket >= _counts.Length)
                return false;
            _counts[bucket] += count;
            Count += count;
        }
        return true;
    }
}
