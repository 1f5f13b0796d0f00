using System.CommandLine;
using KernelBridge.Abi.Protocol;
using KernelBridge.Cli.Bench;
using KernelBridge.Client.Gate;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge bench [--quick] [--json] [--chart FILE] [--only KEY,...] [--scaling]: KernelBridge's system calls beside
/// the real kernel's, measured in one run and reported as ratios (the measurements are in
/// <see cref="BenchRegistry"/>), over the shared-memory gate unless a measurement names another; with --scaling, throughput against the number of client processes
/// and the CPU time of an idle kernel.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Shorter measurements: the whole run in under a minute" };
        var json = CommonOptions.Json();
        var chart = new Option<string?>("--chart") { Description = "Also draw the results as a PNG chart in FILE", HelpName = "FILE" };
        chart.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && Path.GetDirectoryName(Path.GetFullPath(token.Value)) is { } directory && !Directory.Exists(directory))
                result.AddError($"--chart '{token.Value}': the directory {directory} does not exist");
        });
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these measurements (keys as in --json, comma-separated), with their baselines",
            HelpName = "KEY",
            AllowMultipleArgumentsPerToken = true,
        };
        var scaling = new Option<bool>("--scaling") { Description = "Measure IOCTL throughput with 1 to 64 client processes, and an idle kernel's CPU time" };
        var scalingOptions = new ScalingOptions();
        var command = new Command("bench", "Measure KernelBridge's system calls against the real kernel's, in one run (ratios)");
        command.Options.Add(quick);
        command.Options.Add(json);
        command.Options.Add(chart);
        command.Options.Add(only);
        command.Options.Add(scaling);
        scalingOptions.AddTo(command);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var (asJson, chartPath, isQuick) = (parse.GetValue(json), parse.GetValue(chart), parse.GetValue(quick));
            var registry = BenchRegistry.Standard();
            if (parse.GetValue(only) is { Length: > 0 } keys)
                registry = registry.Only([.. keys.SelectMany(k => k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]);
            try
            {
                // The shared-memory gate whatever KERNELBRIDGE_GATE says: the figures name their gate.
                using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: true, GateFeatures.SharedMemory);
                using var scope = GateClient.Use(gate);
                var context = new BenchContext(isQuick ? BenchSettings.Quick : BenchSettings.Full, gate);
                if (parse.GetValue(scaling)) RunScaling(scalingOptions.Plan(parse, isQuick), context, asJson, chartPath);
                else RunMeasurements(registry, context, asJson, chartPath);
                return 0;
            }
            catch (BenchFailedException e)
            {
                Console.Error.WriteLine($"kbridge: {e.Message}");
                return 1;
            }
            catch (IOException e) when (chartPath is not null)
            {
                Console.Error.WriteLine($"kbridge: cannot write the chart {chartPath}: {e.Message}");
                return 1;
            }
        }));
        return command;
    }

    private static void RunMeasurements(BenchRegistry registry, BenchContext context, bool asJson, string? chartPath)
    {
        var report = BenchProgress.Run(!asJson, registry.Entries.Count, progress => BenchRunner.Run(registry, context, progress));
        if (asJson) BenchJson.Write(report);
        else BenchTable.Write(report);
        if (chartPath is null) return;
        BenchChart.Save(chartPath, report);
        if (!asJson) AnsiConsole.MarkupLine($"chart: {Markup.Escape(chartPath)}");
    }

    private static void RunScaling(ScalingPlan plan, BenchContext context, bool asJson, string? chartPath)
    {
        var results = BenchProgress.Run(!asJson, plan.Clients.Count + 1, progress => ScalingRunner.Run(plan, context, progress));
        if (asJson) ScalingReport.WriteJson(results);
        else ScalingReport.WriteTable(results);
        if (chartPath is null) return;
        ScalingReport.SaveChart(chartPath, results);
        if (!asJson) AnsiConsole.MarkupLine($"chart: {Markup.Escape(chartPath)}");
    }
}
