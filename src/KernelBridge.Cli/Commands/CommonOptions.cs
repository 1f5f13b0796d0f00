using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;

namespace KernelBridge.Cli.Commands;

/// <summary>Options and helpers every command shares.</summary>
internal static class CommonOptions
{
    /// <summary>--instance NAME (else KERNELBRIDGE_INSTANCE, else "default"), on every command.</summary>
    public static readonly Option<string?> Instance = new("--instance")
    {
        Description = "The kernel instance to use (default: $KERNELBRIDGE_INSTANCE, else 'default')",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text" };

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public static void PrintJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Connects to the instance's kernel, starting one if none runs.</summary>
    public static GateClient Connect(ParseResult parse, bool autoStart = true) =>
        GateClient.Connect(parse.GetValue(Instance), autoStart);

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
            Console.Error.WriteLine($"kbridge: {e.Message}");
            return 2;
        }
    }
}
