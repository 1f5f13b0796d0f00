namespace KernelBridge.Cli.Bench;

/// <summary>What one `kbridge bench` run found: every measurement beside its baseline, then the comparisons derived from them.</summary>
internal sealed record BenchReport(IReadOnlyList<BenchOutcome> Measurements, IReadOnlyList<ComparisonOutcome> Comparisons);
