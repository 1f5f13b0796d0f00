using Spectre.Console;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The human table of a run: each measurement, its median and p99 (or rate), its baseline and the
/// ratio; then the comparisons, each with its target.
/// </summary>
internal static class BenchTable
{
    public static void Write(BenchReport report)
    {
        var table = new Table()
            .AddColumn("measurement")
            .AddColumn(new TableColumn("median or rate").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned())
            .AddColumn("× baseline")
            .AddColumn(new TableColumn("B/op\nclient/kernel").RightAligned());
        foreach (var outcome in report.Measurements)
        {
            var result = outcome.Result;
            var colour = outcome.Entry.Side == BenchSide.Baseline ? "steelblue" : "darkorange";
            table.AddRow(
                $"[{colour}]{Markup.Escape(outcome.Entry.Title)}[/]",
                BenchFormat.Headline(result),
                result.P99Ns is { } p99 ? BenchFormat.Duration(p99) : "",
                Markup.Escape(outcome.RatioText),
                Allocation(result));
        }
        AnsiConsole.Write(table);
        if (report.Comparisons.Count > 0) AnsiConsole.Write(Comparisons(report.Comparisons));
        AnsiConsole.MarkupLine("[grey]One run; compare ratios, not absolute times. A latency's ratio above 1 is slower than its baseline; a rate's is faster.[/]");
    }

    private static Table Comparisons(IReadOnlyList<ComparisonOutcome> comparisons)
    {
        var table = new Table()
            .AddColumn("comparison")
            .AddColumn(new TableColumn("speed-up").RightAligned())
            .AddColumn("of")
            .AddColumn("target");
        foreach (var comparison in comparisons)
        {
            var colour = comparison.MeetsTarget ? "green" : "red";
            table.AddRow(
                Markup.Escape(comparison.Comparison.Title),
                $"[{colour}]{BenchFormat.Ratio(comparison.Ratio)}[/]",
                Markup.Escape($"{comparison.Slower.Entry.Title} / {comparison.Faster.Entry.Title}, medians"),
                Markup.Escape(comparison.TargetText));
        }
        return table;
    }

    private static string Allocation(BenchResult result) => (result.ClientBytesPerOperation, result.KernelBytesPerOperation) switch
    {
        ({ } client, { } kernel) => $"{BenchFormat.Bytes(client)}/{BenchFormat.Bytes(kernel)}",
        ({ } client, null) => BenchFormat.Bytes(client),
        (null, { } kernel) => $"–/{BenchFormat.Bytes(kernel)}",
        _ => "",
    };
}
