using System.Text;
using System.Text.Json;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// `--json`: one object on one line, a key per measurement holding `median_ns` and `p99_ns` (a
/// latency) or `per_s` (a rate), `baseline` (its baseline's key, null for a baseline), `ratio`
/// (null for a baseline), `samples`, and the allocation per operation where it was counted; then a
/// key per comparison holding `ratio` (`numerator`'s time per operation over `denominator`'s) and
/// `target_at_least`.
/// </summary>
internal static class BenchJson
{
    public static void Write(BenchReport report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var outcome in report.Measurements)
            {
                var result = outcome.Result;
                json.WriteStartObject(outcome.Entry.Key);
                if (result.MedianNs is { } median)
                {
                    json.WriteNumber("median_ns", Round(median, 1));
                    json.WriteNumber("p99_ns", Round(result.P99Ns!.Value, 1));
                }
                else json.WriteNumber("per_s", Significant(result.PerSecond!.Value, 6));
                if (outcome.Entry.Baseline is { } baseline) json.WriteString("baseline", baseline);
                else json.WriteNull("baseline");
                if (outcome.Ratio is { } ratio) json.WriteNumber("ratio", Significant(ratio, 5));
                else json.WriteNull("ratio");
                json.WriteNumber("samples", result.Samples);
                if (result.ClientBytesPerOperation is { } client) json.WriteNumber("client_bytes_per_op", Round(client, 2));
                if (result.KernelBytesPerOperation is { } kernel) json.WriteNumber("kernel_bytes_per_op", Round(kernel, 2));
                json.WriteEndObject();
            }
            foreach (var comparison in report.Comparisons)
            {
                json.WriteStartObject(comparison.Comparison.Key);
                json.WriteNumber("ratio", Significant(comparison.Ratio, 5));
                json.WriteString("numerator", comparison.Comparison.Slower);
                json.WriteString("denominator", comparison.Comparison.Faster);
                json.WriteNumber("target_at_least", comparison.Comparison.Target);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        Console.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public static double Round(double value, int decimals) => Math.Round(value, decimals, MidpointRounding.AwayFromZero);

    /// <summary>Rounds to <paramref name="digits"/> significant digits (a ratio may be 0.0001 or 20000).</summary>
    public static double Significant(double value, int digits)
    {
        if (value == 0 || !double.IsFinite(value)) return value;
        var scale = Math.Pow(10, digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value))));
        return Math.Round(value * scale) / scale;
    }
}
