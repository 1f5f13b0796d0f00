namespace KernelBridge.Cli.Bench;

/// <summary>
/// One measurement in the registry: its JSON key, the words a person reads, its side, the key of
/// the baseline it is compared with (none for a baseline), and the function that measures it.
/// </summary>
internal sealed record BenchEntry(string Key, string Title, BenchSide Side, string? Baseline, Func<BenchContext, BenchResult> Measure);
