namespace KernelBridge.Cli.Bench;

/// <summary>Runs a registry's measurements in order, one at a time, pairs each result with its baseline's, then derives the comparisons.</summary>
internal static class BenchRunner
{
    public static BenchReport Run(BenchRegistry registry, BenchContext context, BenchProgress progress)
    {
        var done = new Dictionary<string, BenchOutcome>(StringComparer.Ordinal);
        var outcomes = new List<BenchOutcome>();
        foreach (var entry in registry.Entries)
        {
            progress.Step(entry.Title);
            // Garbage from the measurement before must not be collected inside this one.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var result = entry.Measure(context);
            var outcome = new BenchOutcome(entry, result, entry.Baseline is { } baseline ? done[baseline] : null);
            done[entry.Key] = outcome;
            outcomes.Add(outcome);
        }
        var comparisons = registry.Comparisons.Select(c => new ComparisonOutcome(c, done[c.Slower], done[c.Faster])).ToList();
        return new BenchReport(outcomes, comparisons);
    }
}
