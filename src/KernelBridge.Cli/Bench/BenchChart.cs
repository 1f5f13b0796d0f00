using ScottPlot;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// `--chart FILE`: a PNG read at a glance. One horizontal bar per measurement, its median time per
/// operation (a rate as 1/rate) on a log scale; baselines in blue, KernelBridge in orange; each
/// bar labelled with its figure and its ratio to its baseline; the comparisons, with their targets, under the title.
/// </summary>
internal static class BenchChart
{
    private static readonly Color BaselineColour = Colors.SteelBlue;
    private static readonly Color KernelBridgeColour = Colors.DarkOrange;
    private static readonly string[] Decades = ["1 ns", "10 ns", "100 ns", "1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s"];

    public static void Save(string path, BenchReport report)
    {
        var outcomes = report.Measurements;
        var plot = new Plot();
        var bars = new List<Bar>();
        var names = new ScottPlot.TickGenerators.NumericManual();
        var longest = 0.0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            var position = outcomes.Count - 1 - i; // the first measurement on top
            var decades = Math.Clamp(Math.Log10(outcome.Result.NanosecondsPerOperation), 0, Decades.Length - 1);
            longest = Math.Max(longest, decades);
            bars.Add(new Bar
            {
                Position = position,
                Value = decades,
                ValueBase = 0,
                Size = 0.7,
                FillColor = outcome.Entry.Side == BenchSide.Baseline ? BaselineColour : KernelBridgeColour,
                Label = Label(outcome),
            });
            names.AddMajor(position, outcome.Entry.Title);
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 12;

        var scale = new ScottPlot.TickGenerators.NumericManual();
        var right = Math.Min(Decades.Length - 1, Math.Ceiling(longest) + 1);
        for (var decade = 0; decade <= right; decade++)
        {
            scale.AddMajor(decade, Decades[decade]);
            if (decade < right)
                for (var minor = 2; minor < 10; minor++) scale.AddMinor(decade + Math.Log10(minor));
        }
        plot.Axes.Left.TickGenerator = names;
        plot.Axes.Bottom.TickGenerator = scale;
        plot.Axes.Bottom.Label.Text = "time per operation: median, or 1 / rate (log scale)";
        plot.Axes.SetLimitsX(0, right + 0.6); // room for the labels
        plot.Axes.SetLimitsY(-0.6, outcomes.Count - 0.4);
        plot.Grid.YAxisStyle.IsVisible = false;
        plot.Title(Title(report.Comparisons));
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "baseline (Linux, same machine)", FillColor = BaselineColour });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "KernelBridge", FillColor = KernelBridgeColour });
        plot.SavePng(path, 1200, 140 + 52 * outcomes.Count);
    }

    private static string Title(IReadOnlyList<ComparisonOutcome> comparisons)
    {
        var lines = comparisons.Select(c => $"{c.Comparison.Title}: {BenchFormat.Ratio(c.Ratio)} (target {c.TargetText})");
        return string.Join("\n", lines.Prepend("kbridge bench: KernelBridge beside the real kernel, one run"));
    }

    private static string Label(BenchOutcome outcome)
    {
        var figure = BenchFormat.Headline(outcome.Result);
        return outcome.Baseline is null ? figure : $"{figure} · {outcome.RatioText}";
    }
}
