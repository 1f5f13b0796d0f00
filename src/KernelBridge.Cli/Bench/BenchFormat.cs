using System.Globalization;

namespace KernelBridge.Cli.Bench;

/// <summary>How figures read in the table and the chart: times with their unit, rates per second, ratios as ×.</summary>
internal static class BenchFormat
{
    public static string Duration(double nanoseconds) => nanoseconds switch
    {
        < 1_000 => $"{Number(nanoseconds)} ns",
        < 1_000_000 => $"{Number(nanoseconds / 1_000)} µs",
        < 1_000_000_000 => $"{Number(nanoseconds / 1_000_000)} ms",
        _ => $"{Number(nanoseconds / 1_000_000_000)} s",
    };

    public static string Rate(double perSecond) => perSecond switch
    {
        < 10_000 => $"{Number(perSecond)}/s",
        < 10_000_000 => $"{Number(perSecond / 1_000)} k/s",
        _ => $"{Number(perSecond / 1_000_000)} M/s",
    };

    /// <summary>A result's headline figure: its median, or its rate.</summary>
    public static string Headline(BenchResult result) => result.MedianNs is { } median ? Duration(median) : Rate(result.PerSecond!.Value);

    public static string Ratio(double ratio) => $"{Number(ratio)}×";

    public static string Bytes(double bytes) => bytes.ToString(bytes < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);

    /// <summary>Three significant figures, never in exponent form: 0.0123, 1.23, 12.3, 123, 1234.</summary>
    public static string Number(double value)
    {
        var magnitude = Math.Abs(value);
        var format = magnitude switch
        {
            >= 100 => "#,0",
            >= 10 => "0.0",
            >= 1 => "0.00",
            >= 0.1 => "0.000",
            >= 0.01 => "0.0000",
            _ => "0.00000",
        };
        return value.ToString(format, CultureInfo.InvariantCulture);
    }
}
