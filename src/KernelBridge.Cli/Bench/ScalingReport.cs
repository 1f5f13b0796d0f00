using System.Text;
using System.Text.Json;
using ScottPlot;
using Spectre.Console;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// What `kbridge bench --scaling` prints: a table, or with --json one object with a key per client
/// count (`clients_N`: `per_s`, `min_client_per_s`, `max_client_per_s`, `clients`, `baseline`,
/// `ratio`) and `idle_kernel_cpu` (`cpu_percent`, `clients`, `seconds`); and, with --chart, bars of
/// the aggregate rate per client count.
/// </summary>
internal static class ScalingReport
{
    public static void WriteTable(ScalingResults results)
    {
        var table = new Table()
            .AddColumn(new TableColumn("clients").RightAligned())
            .AddColumn(new TableColumn("IOCTLs, all clients").RightAligned())
            .AddColumn(new TableColumn("slowest client").RightAligned())
            .AddColumn(new TableColumn("fastest client").RightAligned())
            .AddColumn(new TableColumn($"× {results.Baseline.Clients} client{(results.Baseline.Clients == 1 ? "" : "s")}").RightAligned());
        foreach (var point in results.Points)
            table.AddRow(point.Clients.ToString(System.Globalization.CultureInfo.InvariantCulture), BenchFormat.Rate(point.PerSecond),
                BenchFormat.Rate(point.MinPerClient), BenchFormat.Rate(point.MaxPerClient), BenchFormat.Ratio(Ratio(results, point)));
        AnsiConsole.Write(table);
        var idle = results.Idle;
        AnsiConsole.MarkupLine($"idle kernel (pid {idle.KernelProcessId}) with {idle.Clients} idle clients over {idle.Over.TotalSeconds:0.0} s: " +
            $"[bold]{BenchFormat.Number(idle.PercentOfOneCore)} %[/] of one core");
    }

    public static void WriteJson(ScalingResults results)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var point in results.Points)
            {
                json.WriteStartObject(ScalingResults.Key(point));
                json.WriteNumber("per_s", BenchJson.Round(point.PerSecond, 1));
                json.WriteNumber("min_client_per_s", BenchJson.Round(point.MinPerClient, 1));
                json.WriteNumber("max_client_per_s", BenchJson.Round(point.MaxPerClient, 1));
                json.WriteNumber("clients", point.Clients);
                if (ReferenceEquals(point, results.Baseline))
                {
                    json.WriteNull("baseline");
                    json.WriteNull("ratio");
                }
                else
                {
                    json.WriteString("baseline", ScalingResults.Key(results.Baseline));
                    json.WriteNumber("ratio", BenchJson.Significant(Ratio(results, point), 5));
                }
                json.WriteEndObject();
            }
            json.WriteStartObject(ScalingResults.IdleKey);
            json.WriteNumber("cpu_percent", BenchJson.Round(results.Idle.PercentOfOneCore, 3));
            json.WriteNumber("clients", results.Idle.Clients);
            json.WriteNumber("seconds", BenchJson.Round(results.Idle.Over.TotalSeconds, 2));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        Console.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public static void SaveChart(string path, ScalingResults results)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var names = new ScottPlot.TickGenerators.NumericManual();
        for (var i = 0; i < results.Points.Count; i++)
        {
            var point = results.Points[i];
            bars.Add(new Bar
            {
                Position = i,
                Value = point.PerSecond,
                Size = 0.6,
                FillColor = Colors.DarkOrange,
                Label = $"{BenchFormat.Rate(point.PerSecond)} (each {BenchFormat.Rate(point.MinPerClient)}–{BenchFormat.Rate(point.MaxPerClient)})",
            });
            names.AddMajor(i, $"{point.Clients} client{(point.Clients == 1 ? "" : "s")}");
        }
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.TickGenerator = names;
        plot.Axes.Left.Label.Text = "Echo IOCTLs per second, all clients";
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title($"kbridge bench --scaling; idle kernel with {results.Idle.Clients} idle clients: {BenchFormat.Number(results.Idle.PercentOfOneCore)} % of one core");
        plot.SavePng(path, 1000, 560);
    }

    /// <summary>A point's aggregate rate over the baseline's (above 1: more IOCTLs per second in all).</summary>
    private static double Ratio(ScalingResults results, ScalingPoint point) => point.PerSecond / results.Baseline.PerSecond;
}
