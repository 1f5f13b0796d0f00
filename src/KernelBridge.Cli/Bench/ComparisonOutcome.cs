using System.Globalization;

namespace KernelBridge.Cli.Bench;

/// <summary>A comparison with the two outcomes it divides: <see cref="Ratio"/> above 1 means <see cref="Faster"/> is faster indeed.</summary>
internal sealed record ComparisonOutcome(BenchComparison Comparison, BenchOutcome Slower, BenchOutcome Faster)
{
    /// <summary>The slower measurement's time per operation over the faster one's (a rate counts as 1 / rate).</summary>
    public double Ratio => Slower.Result.NanosecondsPerOperation / Faster.Result.NanosecondsPerOperation;

    public bool MeetsTarget => Ratio >= Comparison.Target;

    /// <summary>"≥ 50×": the target as the table and the chart say it.</summary>
    public string TargetText => $"≥ {Comparison.Target.ToString("0.##", CultureInfo.InvariantCulture)}×";
}
