using System.CommandLine;
using System.CommandLine.Parsing;

namespace KernelBridge.Cli;

/// <summary>
/// Reports a command line that does not parse: each problem as one sentence on stderr, then where
/// to read the usage. Nothing goes to stdout (a script reading --json gets nothing rather than help
/// text), and the exit code is 2.
/// </summary>
internal static class ParseErrors
{
    public const int ExitCode = 2;

    public static int Report(ParseResult parse)
    {
        foreach (var message in parse.Errors.Select(e => Describe(e, parse.UnmatchedTokens)).OfType<string>().Distinct(StringComparer.Ordinal))
            Console.Error.WriteLine($"kbridge: {message}");
        Console.Error.WriteLine($"kbridge: see `{CommandPath(parse.CommandResult)} --help`");
        return ExitCode;
    }

    /// <summary>One sentence for <paramref name="error"/>, or null when another error already says it.</summary>
    private static string? Describe(ParseError error, IReadOnlyList<string> unmatched) => error.SymbolResult switch
    {
        ArgumentResult { Tokens.Count: 0 } missing when missing.Parent is CommandResult command =>
            $"`{CommandPath(command)}` needs {missing.Argument.Name}: {LowerFirst(missing.Argument.Description)}",
        OptionResult { Tokens.Count: 0, Implicit: false } option => $"{option.Option.Name} needs a value",
        CommandResult command when command.Command.Subcommands.Count > 0 && !command.Children.OfType<CommandResult>().Any()
                && !unmatched.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal)) =>
            // With a word that is not a command, "unrecognized 'word'" says it better.
            unmatched.Count > 0 ? null
                : $"`{CommandPath(command)}` needs a command: {string.Join(", ", command.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}",
        // A conversion System.CommandLine did itself names a .NET type; say it in words instead.
        OptionResult { Tokens.Count: > 0 } option when error.Message.Contains("expected type", StringComparison.Ordinal) =>
            $"'{option.Tokens[0].Value}' is not a valid value for {option.Option.Name}",
        ArgumentResult { Tokens.Count: > 0 } argument when error.Message.Contains("expected type", StringComparison.Ordinal) =>
            $"'{argument.Tokens[0].Value}' is not a valid {argument.Argument.Name}",
        _ => error.Message,
    };

    private static string LowerFirst(string? text) =>
        string.IsNullOrEmpty(text) ? "" : char.ToLowerInvariant(text[0]) + text[1..];

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? at = command; at is not null; at = at.Parent)
            if (at is CommandResult c) names.Add(c.Parent is null ? "kbridge" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}
