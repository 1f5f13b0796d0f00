using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KernelBridge.Kernel;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// `kbridge kernel`'s limits on its clients: --max-connections (or $KBRIDGE_MAX_CONNECTIONS),
/// --max-client-backlog (or $KBRIDGE_MAX_CLIENT_BACKLOG) and --max-section-size (or
/// $KBRIDGE_MAX_SECTION_SIZE). A value that is not a positive whole
/// number is refused with a message naming where it came from.
/// </summary>
internal sealed class GateLimitOptions
{
    public const string MaxConnectionsVariable = "KBRIDGE_MAX_CONNECTIONS";
    public const string MaxClientBacklogVariable = "KBRIDGE_MAX_CLIENT_BACKLOG";
    public const string MaxSectionSizeVariable = "KBRIDGE_MAX_SECTION_SIZE";

    private readonly Option<long> _maxConnections;
    private readonly Option<long> _maxClientBacklog;
    private readonly Option<long> _maxSectionSize;

    public GateLimitOptions(Command command)
    {
        _maxConnections = Create("--max-connections", MaxConnectionsVariable, KernelOptions.DefaultMaxConnections, int.MaxValue, isSize: false,
            $"Serve at most N clients at once; more are refused (default {KernelOptions.DefaultMaxConnections}, or ${MaxConnectionsVariable})");
        _maxClientBacklog = Create("--max-client-backlog", MaxClientBacklogVariable, KernelOptions.DefaultMaxClientBacklog, long.MaxValue, isSize: true,
            $"Disconnect a client that leaves more than BYTES of results unread (suffix K, M or G; default {KernelOptions.DefaultMaxClientBacklog >> 20}M, or ${MaxClientBacklogVariable})");
        _maxSectionSize = Create("--max-section-size", MaxSectionSizeVariable, KernelOptions.DefaultMaxSectionSize, long.MaxValue, isSize: true,
            $"Refuse a section larger than BYTES with STATUS_SECTION_TOO_BIG (suffix K, M or G; default {KernelOptions.DefaultMaxSectionSize >> 20}M, or ${MaxSectionSizeVariable})");
        command.Options.Add(_maxConnections);
        command.Options.Add(_maxClientBacklog);
        command.Options.Add(_maxSectionSize);
    }

    public KernelOptions ApplyTo(ParseResult parse, KernelOptions options) => options with
    {
        MaxConnections = (int)parse.GetValue(_maxConnections),
        MaxClientBacklog = parse.GetValue(_maxClientBacklog),
        MaxSectionSize = parse.GetValue(_maxSectionSize),
    };

    internal static Option<long> Create(string name, string variable, long fallback, long maximum, bool isSize, string description) => new(name)
    {
        Description = description,
        HelpName = isSize ? "BYTES" : "N",
        CustomParser = result => Parse(result, result.Tokens.Count > 0 ? result.Tokens[0].Value : "", name, maximum, isSize),
        DefaultValueFactory = result => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? Parse(result, text, "$" + variable, maximum, isSize)
            : fallback,
    };

    /// <summary>A positive whole number up to <paramref name="maximum"/>; a size may end in K, M or G (binary units).</summary>
    private static long Parse(ArgumentResult result, string text, string source, long maximum, bool isSize)
    {
        var digits = text.Trim();
        var shift = isSize && digits.Length > 0 ? char.ToUpperInvariant(digits[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 } : 0;
        if (shift != 0) digits = digits[..^1];
        if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= maximum >> shift)
            return value << shift;
        result.AddError(isSize
            ? $"{source}: '{text}' is not a number of bytes from 1 up (K, M or G may follow)"
            : $"{source}: '{text}' is not a whole number from 1 to {maximum.ToString(CultureInfo.InvariantCulture)}");
        return 0;
    }
}
