using System.CommandLine;
using System.Globalization;
using KernelBridge.Cli.Fuzz;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge fuzz [--duration 60s] [--seed N] [--workers N] [--rings] [--json]: random and mutated
/// frames (and, with --rings, corrupt shared-memory rings) against a running kernel while a normal
/// client checks it is served (docs/fuzzing.md). Exit 0 if the kernel survived, served the checker
/// throughout and came back to its baseline; 1 if not.
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var duration = new Option<TimeSpan>("--duration")
        {
            Description = "How long to fuzz: seconds, or a number with ms, s, m or h (default 60s)",
            HelpName = "TIME",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(60),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (TryParseDuration(text, out var value)) return value;
                result.AddError($"--duration '{text}': give a positive time such as 60, 5s, 500ms or 2m");
                return TimeSpan.Zero;
            },
        };
        var seed = new Option<int?>("--seed") { Description = "Seed of the random choices (default: a new one, printed)", HelpName = "N" };
        var workers = new Option<int>("--workers") { Description = "Fuzz connections working at once (default 2)", HelpName = "N", DefaultValueFactory = _ => 2 };
        workers.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 64) result.AddError("--workers: give 1 to 64");
        });
        var rings = new Option<bool>("--rings") { Description = "Also corrupt shared-memory gate rings (every other worker negotiates the shm gate, then scribbles on it)" };
        var json = CommonOptions.Json("one JSON summary");

        var command = new Command("fuzz", "Fuzz a running kernel with random and mutated frames while a normal client checks it is served");
        command.Options.Add(duration);
        command.Options.Add(seed);
        command.Options.Add(workers);
        command.Options.Add(rings);
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var asJson = parse.GetValue(json);
            var settings = new FuzzSettings(CommonOptions.InstanceName(parse), parse.GetValue(duration), parse.GetValue(seed) ?? Random.Shared.Next(1, int.MaxValue),
                parse.GetValue(workers), parse.GetValue(rings), LiveView: !asJson && AnsiConsole.Profile.Capabilities.Interactive);
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            var report = settings.LiveView ? RunWithLiveView(settings, cancel.Token) : LiveFuzzer.Run(settings, null, cancel.Token);
            if (asJson) CommonOptions.PrintJson(report.ToJson());
            else Print(report);
            return report.Passed ? 0 : 1;
        }));
        return command;
    }

    private static FuzzReport RunWithLiveView(FuzzSettings settings, CancellationToken cancel)
    {
        FuzzReport? report = null;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        AnsiConsole.Live(table).Start(context =>
        {
            report = LiveFuzzer.Run(settings, (counters, elapsed, pid) =>
            {
                table.Rows.Clear();
                table.AddRow("elapsed", $"{elapsed.TotalSeconds:0.0} / {settings.Duration.TotalSeconds:0} s");
                table.AddRow("executions", $"{Volatile.Read(ref counters.Executions):N0} ({Volatile.Read(ref counters.Executions) / Math.Max(0.1, elapsed.TotalSeconds):N0}/s)");
                table.AddRow("connections (kernel hung up)", $"{Volatile.Read(ref counters.Connections):N0} ({Volatile.Read(ref counters.KernelHangUps):N0})");
                if (settings.Rings) table.AddRow("ring sessions (corrupted)", $"{Volatile.Read(ref counters.RingSessions):N0} ({Volatile.Read(ref counters.RingsCorrupted):N0})");
                table.AddRow("checker calls / errors", $"{Volatile.Read(ref counters.CheckerCalls):N0} / {Volatile.Read(ref counters.CheckerErrors)}");
                table.AddRow($"kernel pid {pid}", Volatile.Read(ref counters.KernelDeaths) == 0 ? "[green]alive[/]" : "[red]DEAD[/]");
                table.AddRow("kernel RSS", KernelWatch.ResidentBytes(pid) is { } rss ? Mib(rss) : "-");
                context.Refresh();
            }, cancel);
        });
        return report!;
    }

    private static void Print(FuzzReport r)
    {
        var rate = r.Executions / Math.Max(0.001, r.Elapsed.TotalSeconds);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: {r.Executions} executions in {r.Elapsed.TotalSeconds:0.0} s ({rate:0}/s), seed {r.Settings.Seed}, {r.Settings.Workers} workers{(r.Settings.Rings ? " (rings too)" : "")}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"connections: {r.Connections} ({r.KernelHangUps} hung up by the kernel, {r.ConnectFailures} refused){(r.Settings.Rings ? $"; ring sessions {r.RingSessions}, rings corrupted {r.RingsCorrupted}" : "")}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"kernel pid {r.KernelPid}: {r.KernelDeaths} deaths, {r.KernelRestarts} restarts; checker: {r.CheckerCalls} calls, {r.CheckerErrors} errors{(r.LastCheckerError is { } last ? $" (last: {last})" : "")}"));
        var table = new Table().AddColumn("kernel").AddColumn(new TableColumn("before").RightAligned()).AddColumn(new TableColumn("after").RightAligned());
        var a = r.After;
        table.AddRow("resident set", Mib(r.Before.ResidentBytes), a is null ? "-" : Mib(a.ResidentBytes));
        table.AddRow("managed heap", Mib(r.Before.ManagedHeapBytes), a is null ? "-" : Mib(a.ManagedHeapBytes));
        table.AddRow("heap after last GC", Mib(r.Before.HeapAfterLastCollectionBytes), a is null ? "-" : Mib(a.HeapAfterLastCollectionBytes));
        table.AddRow("objects", Count(r.Before.Objects), a is null ? "-" : Count(a.Objects));
        table.AddRow("handles", Count(r.Before.Handles), a is null ? "-" : Count(a.Handles));
        table.AddRow("clients", Count(r.Before.Clients), a is null ? "-" : Count(a.Clients));
        AnsiConsole.Write(table);
        Console.Out.WriteLine(r.Passed ? "passed: the kernel survived, served the checker throughout and came back to its baseline"
            : $"FAILED: {(r.Crashes > 0 ? "the kernel died or was replaced; " : "")}{(r.CheckerErrors > 0 ? "the checker was not served; " : "")}{(r.BackToBaseline ? "" : "the kernel did not come back to its baseline")}");
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>"60" (seconds), "500ms", "5s", "2m", "1h"; positive and at most a day.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !double.IsFinite(amount)) return false;
        var seconds = amount * unit;
        if (seconds <= 0 || seconds > 86400) return false;
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
