using System.CommandLine;
using System.Globalization;
using KernelBridge.Cli.Commands;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The hidden options that shorten `kbridge bench --scaling` (for tests, and for a quick look):
/// --scaling-clients 1,2 --scaling-seconds 1 --idle-seconds 2. The documented run takes none of them.
/// </summary>
internal sealed class ScalingOptions
{
    private const int MaxClients = 256;

    private readonly Option<int[]?> _clients = new("--scaling-clients")
    {
        Hidden = true,
        Description = $"Client counts to measure, comma-separated, each 1 to {MaxClients}",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var counts = new int[parts.Length];
            for (var i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out counts[i]) || counts[i] < 1 || counts[i] > MaxClients)
                {
                    result.AddError($"--scaling-clients must be whole numbers from 1 to {MaxClients}, separated by commas, not '{text}'");
                    return null;
                }
            return counts;
        },
    };

    private readonly Option<int> _seconds = Hide(CheckedOptions.WholeNumber("--scaling-seconds", "Seconds each client count hammers", 1, 600, 0));

    private readonly Option<int> _idleSeconds = Hide(CheckedOptions.WholeNumber("--idle-seconds", "Seconds the idle kernel is timed", 1, 600, 0));

    public void AddTo(Command command)
    {
        command.Options.Add(_clients);
        command.Options.Add(_seconds);
        command.Options.Add(_idleSeconds);
    }

    /// <summary>The standard plan (--quick or not), with whatever the hidden options changed.</summary>
    public ScalingPlan Plan(ParseResult parse, bool quick)
    {
        var plan = ScalingPlan.For(quick);
        if (parse.GetValue(_clients) is { Length: > 0 } clients) plan = plan with { Clients = clients };
        if (parse.GetValue(_seconds) is > 0 and var seconds) plan = plan with { Hammer = TimeSpan.FromSeconds(seconds) };
        if (parse.GetValue(_idleSeconds) is > 0 and var idle) plan = plan with { Idle = TimeSpan.FromSeconds(idle) };
        return plan;
    }

    private static Option<int> Hide(Option<int> option)
    {
        option.Hidden = true;
        return option;
    }
}
