namespace KernelBridge.Cli.Bench;

/// <summary>
/// A measurement's result beside its baseline's outcome. <see cref="Ratio"/> is this value divided
/// by the baseline's, in this measurement's unit (a baseline median becomes a rate for a rate):
/// above 1 a latency is slower than its baseline, a rate higher.
/// </summary>
internal sealed record BenchOutcome(BenchEntry Entry, BenchResult Result, BenchOutcome? Baseline)
{
    public double? Ratio => Baseline is null ? null : Result.Value / Baseline.Result.ValueAs(Result);

    /// <summary>"95.2× ioctl(FIONREAD), pipe": the ratio and what it is to; empty for a baseline.</summary>
    public string RatioText => Ratio is { } ratio ? $"{BenchFormat.Ratio(ratio)} {Baseline!.Entry.Title}" : "";
}
