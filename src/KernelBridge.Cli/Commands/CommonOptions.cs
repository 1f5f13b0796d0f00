using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Commands;

/// <summary>Options and helpers every command shares.</summary>
internal static class CommonOptions
{
    /// <summary>--instance NAME (else KERNELBRIDGE_INSTANCE, else "default"), on every command. A bad name is a parse error.</summary>
    public static readonly Option<string?> Instance = CreateInstance();

    private static Option<string?> CreateInstance()
    {
        var option = new Option<string?>("--instance")
        {
            Description = "The kernel instance to use (default: $KERNELBRIDGE_INSTANCE, else 'default')",
            HelpName = "NAME",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && InstanceNameProblem(token.Value, $"--instance '{token.Value}'") is { } problem) result.AddError(problem);
        });
        return option;
    }

    /// <summary>The instance this command uses: --instance, else KERNELBRIDGE_INSTANCE, else "default". A bad name from the environment throws <see cref="ArgumentException"/> saying so.</summary>
    public static string InstanceName(ParseResult parse)
    {
        if (parse.GetValue(Instance) is { Length: > 0 } given) return given;
        var fromEnvironment = Environment.GetEnvironmentVariable(InstanceDirectory.InstanceVariable);
        if (string.IsNullOrEmpty(fromEnvironment)) return InstanceDirectory.DefaultInstance;
        if (InstanceNameProblem(fromEnvironment, $"{InstanceDirectory.InstanceVariable}='{fromEnvironment}' (from the environment)") is { } problem) throw new ArgumentException(problem);
        return fromEnvironment;
    }

    /// <summary>Why <paramref name="name"/> is not an instance name (saying where it came from), or null if it is one.</summary>
    private static string? InstanceNameProblem(string name, string source)
    {
        const string Rule = "a name is 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'";
        if (name.Length == 0) return $"{source} is not an instance name: {Rule} (leave the option out for the default)";
        try
        {
            InstanceDirectory.ResolveName(name);
            return null;
        }
        catch (ArgumentException)
        {
            return $"{source} is not an instance name: {Rule}";
        }
    }

    /// <summary>--json; <paramref name="shape"/> says what it prints ("one JSON object", "a JSON array of drivers").</summary>
    public static Option<bool> Json(string shape = "one JSON object") => new("--json") { Description = $"Print {shape} instead of text" };

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public static void PrintJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Connects to the instance's kernel, starting one if none runs.</summary>
    public static GateClient Connect(ParseResult parse, bool autoStart = true) =>
        GateClient.Connect(InstanceName(parse), autoStart);

    public static string StatusHex(NtStatus status) => "0x" + status.Code.ToString("X8", CultureInfo.InvariantCulture);

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    /// <summary>Parses 0x-prefixed hex or decimal.</summary>
    public static bool TryParseNumber(string text, out uint value)
    {
        text = text.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return uint.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
        return uint.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Parses hex bytes ("48 65 6c", "48656c", "0x48656c").</summary>
    public static bool TryParseHex(string text, out byte[] bytes)
    {
        var clean = text.Replace(" ", "", StringComparison.Ordinal).Replace(":", "", StringComparison.Ordinal);
        if (clean.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) clean = clean[2..];
        try
        {
            bytes = Convert.FromHexString(clean);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    /// <summary>Runs a command body, turning "no kernel" and status failures into a message and exit code 1.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (KernelUnavailableException e)
        {
            Console.Error.WriteLine($"kbridge: {e.Message}");
            return 1;
        }
        catch (ProtocolMismatchException e)
        {
            Console.Error.WriteLine($"kbridge: {e.Message}");
            return 1;
        }
        catch (NtStatusException e)
        {
            Console.Error.WriteLine($"kbridge: {e.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"kbridge: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"kbridge: {Sentence(e)}");
            return 2;
        }
    }

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'x')" .NET appends.</summary>
    public static string Sentence(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
}
