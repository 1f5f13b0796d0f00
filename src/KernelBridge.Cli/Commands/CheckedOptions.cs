using System.CommandLine;
using System.Globalization;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// Options whose values are checked while parsing, each refusal one sentence that names the
/// option, the value and what it accepts (System.CommandLine's own would name a .NET type).
/// </summary>
internal static class CheckedOptions
{
    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>.</summary>
    public static Option<int> WholeNumber(string name, string description, int minimum, int maximum, int defaultValue) => new(name)
    {
        Description = $"{description} ({Range(minimum, maximum)}; default {defaultValue})",
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum) return value;
            result.AddError($"{name} must be a whole number, {Range(minimum, maximum)}, not '{text}'");
            return defaultValue;
        },
    };

    /// <summary>Restricts <paramref name="option"/> to <paramref name="values"/>, refusing anything else in one sentence.</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] values)
    {
        option.HelpName = string.Join('|', values);
        option.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && !values.Contains(token.Value, StringComparer.Ordinal))
                result.AddError($"{option.Name} must be {Alternatives(values)}, not '{token.Value}'");
        });
        return option;
    }

    private static string Range(int minimum, int maximum) =>
        maximum == int.MaxValue ? $"at least {minimum}" : $"from {minimum} to {maximum}";

    private static string Alternatives(string[] values) =>
        values.Length == 1 ? values[0] : string.Join(", ", values[..^1]) + " or " + values[^1];
}
