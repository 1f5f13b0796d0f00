using System.CommandLine;
using System.Globalization;
using KernelBridge.Kernel;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// `kbridge kernel --idle-timeout SECONDS`, else $KBRIDGE_IDLE_TIMEOUT, else 5: a number of seconds
/// from 0 to <see cref="KernelOptions.MaxIdleTimeout"/>. Anything else (NaN, infinities, negative,
/// too large, not a number) is refused with a sentence naming where the value came from, before a
/// kernel starts.
/// </summary>
internal static class IdleTimeoutSetting
{
    public const string Variable = "KBRIDGE_IDLE_TIMEOUT";

    public static readonly TimeSpan Default = TimeSpan.FromSeconds(5);

    private static double MaxSeconds => KernelOptions.MaxIdleTimeout.TotalSeconds;

    public static Option<TimeSpan?> CreateOption() => new("--idle-timeout")
    {
        Description = $"Seconds to linger after the last client, 0 to {MaxSeconds} (default 5, or ${Variable})",
        HelpName = "SECONDS",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (TryParse(text, out var value)) return value;
            result.AddError(Problem($"--idle-timeout '{text}'"));
            return null;
        },
    };

    /// <summary>The option's value if given, else the environment's, else the default; false (with the sentence) if the environment's is bad.</summary>
    public static bool TryResolve(TimeSpan? fromOption, out TimeSpan value, out string? problem)
    {
        problem = null;
        value = Default;
        if (fromOption is { } given)
        {
            value = given;
            return true;
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(fromEnvironment) || TryParse(fromEnvironment, out value)) return true;
        value = Default;
        problem = Problem($"{Variable}='{fromEnvironment}' (from the environment)");
        return false;
    }

    private static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds < 0 || seconds > MaxSeconds)
            return false;
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static string Problem(string value) =>
        $"{value} is not an idle timeout: give a number of seconds from 0 to {MaxSeconds} (30 days); for a kernel that stays, use --persistent";
}
