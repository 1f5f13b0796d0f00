using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KernelBridge.Cli.Stress;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge stress [--processes N] [--threads N] [--duration T] [--json]: many worker processes doing
/// mixed operations through all three doors; operations, errors, latency, kernel memory growth and
/// leaked objects at the end. Exit code 1 on any error or leak. `kbridge stress worker` (hidden) is one worker.
/// </summary>
internal static class StressCommand
{
    private static readonly JsonSerializerOptions CamelCase = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create()
    {
        var processes = new Option<int>("--processes") { Description = "Worker processes", DefaultValueFactory = _ => 4, HelpName = "N" };
        var threads = new Option<int>("--threads") { Description = "Threads in each worker", DefaultValueFactory = _ => 4, HelpName = "N" };
        var duration = new Option<TimeSpan>("--duration")
        {
            Description = "How long the workers run: 90s, 10m, 1h (a bare number is seconds)",
            HelpName = "T",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (TryParseDuration(text, out var value)) return value;
                result.AddError($"--duration '{text}' is not a duration: a positive number of seconds, or a number followed by s, m or h (90s, 10m)");
                return TimeSpan.Zero;
            },
        };
        var json = CommonOptions.Json();
        var command = new Command(StressCommandNames.Command, "Run many processes doing mixed operations through every door, then report errors, latency, memory growth and leaks")
        {
            processes, threads, duration, json,
        };
        foreach (var option in new[] { processes, threads })
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() is < 1 or > 1024) result.AddError($"{result.Option.Name} must be between 1 and 1024");
            });
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var settings = new StressSettings(CommonOptions.InstanceName(parse), parse.GetValue(processes), parse.GetValue(threads), parse.GetValue(duration),
                parse.GetValue(json));
            using var gate = CommonOptions.Connect(parse);
            StressReport report;
            try
            {
                report = new StressRunner(settings).Run(gate);
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"kbridge: stress: {e.Message}");
                return 1;
            }
            if (settings.Json) Console.Out.WriteLine(JsonSerializer.Serialize(report, CamelCase));
            else report.PrintText(Console.Out);
            return report.Passed ? 0 : 1;
        }));
        command.Subcommands.Add(CreateWorker());
        return command;
    }

    private static Command CreateWorker()
    {
        var index = new Option<int>("--index");
        var processes = new Option<int>("--processes");
        var threads = new Option<int>("--threads");
        var milliseconds = new Option<long>("--duration-ms");
        var run = new Option<string>("--run") { DefaultValueFactory = _ => "x" };
        var worker = new Command(StressCommandNames.Worker, "One stress worker process (started by kbridge stress)") { Hidden = true };
        foreach (var option in new Option[] { index, processes, threads, milliseconds, run }) worker.Options.Add(option);
        worker.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var stress = new StressWorker(CommonOptions.InstanceName(parse), parse.GetValue(index), Math.Max(1, parse.GetValue(processes)),
                Math.Max(1, parse.GetValue(threads)), TimeSpan.FromMilliseconds(parse.GetValue(milliseconds)), parse.GetValue(run)!);
            return stress.Run();
        }));
        return worker;
    }

    private static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0) return false;
        var unit = char.IsAsciiLetter(text[^1]) ? text[^1] : 's';
        var number = char.IsAsciiLetter(text[^1]) ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0) return false;
        value = unit switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            _ => TimeSpan.Zero,
        };
        return value > TimeSpan.Zero;
    }
}
