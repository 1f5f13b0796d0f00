using System.CommandLine;
using KernelBridge.Kernel;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// `kbridge kernel`'s quotas on each client (docs/quotas.md): --max-handles, --max-pending-irps,
/// --max-completion-packets, --max-posted-messages, --max-port-messages, --max-mapped-bytes and
/// --max-connections-per-user, each also from a KBRIDGE_* variable. A value out of range is
/// refused with a message naming where it came from, and no kernel starts.
/// </summary>
internal sealed class QuotaOptions
{
    private readonly Option<long> _handles;
    private readonly Option<long> _pendingIrps;
    private readonly Option<long> _completionPackets;
    private readonly Option<long> _postedMessages;
    private readonly Option<long> _portMessages;
    private readonly Option<long> _mappedBytes;
    private readonly Option<long> _connectionsPerUser;

    public QuotaOptions(Command command)
    {
        _handles = Count("--max-handles", "KBRIDGE_MAX_HANDLES", QuotaLimits.DefaultMaxHandles, QuotaLimits.MaxHandlesLimit,
            "Handles one process may hold; more fail with STATUS_INSUFFICIENT_RESOURCES");
        _pendingIrps = Count("--max-pending-irps", "KBRIDGE_MAX_PENDING_IRPS", QuotaLimits.DefaultMaxPendingIrps, QuotaLimits.MaxCountLimit,
            "I/O requests one process may have in flight; more fail with STATUS_INSUFFICIENT_RESOURCES");
        _completionPackets = Count("--max-completion-packets", "KBRIDGE_MAX_COMPLETION_PACKETS", QuotaLimits.DefaultMaxCompletionPackets, QuotaLimits.MaxCountLimit,
            "Completion packets one process may have posted and not yet taken; more fail with STATUS_QUOTA_EXCEEDED");
        _postedMessages = Count("--max-posted-messages", "KBRIDGE_MAX_POSTED_MESSAGES", QuotaLimits.DefaultMaxPostedMessages, QuotaLimits.MaxCountLimit,
            "Messages one thread's queue holds (USERPostMessageLimit); more fail with ERROR_NOT_ENOUGH_QUOTA");
        _portMessages = Count("--max-port-messages", "KBRIDGE_MAX_PORT_MESSAGES", QuotaLimits.DefaultMaxPortMessages, QuotaLimits.MaxCountLimit,
            "Filter port messages waiting for one process; more fail FltSendMessage with STATUS_INSUFFICIENT_RESOURCES");
        _mappedBytes = GateLimitOptions.Create("--max-mapped-bytes", "KBRIDGE_MAX_MAPPED_BYTES", QuotaLimits.DefaultMaxMappedBytes, long.MaxValue, isSize: true,
            $"Bytes of views one process may map; more fail with STATUS_QUOTA_EXCEEDED (suffix K, M or G; default {QuotaLimits.DefaultMaxMappedBytes >> 30}G, or $KBRIDGE_MAX_MAPPED_BYTES)");
        _connectionsPerUser = Count("--max-connections-per-user", "KBRIDGE_MAX_CONNECTIONS_PER_USER", QuotaLimits.DefaultMaxConnectionsPerUser, int.MaxValue,
            "Clients one Unix user may have connected; more are refused with STATUS_CONNECTION_COUNT_LIMIT");
        foreach (var option in (Option[])[_handles, _pendingIrps, _completionPackets, _postedMessages, _portMessages, _mappedBytes, _connectionsPerUser])
            command.Options.Add(option);
    }

    public KernelOptions ApplyTo(ParseResult parse, KernelOptions options) => options with
    {
        Quotas = new QuotaLimits
        {
            MaxHandles = (int)parse.GetValue(_handles),
            MaxPendingIrps = (int)parse.GetValue(_pendingIrps),
            MaxCompletionPackets = (int)parse.GetValue(_completionPackets),
            MaxPostedMessages = (int)parse.GetValue(_postedMessages),
            MaxPortMessages = (int)parse.GetValue(_portMessages),
            MaxMappedBytes = parse.GetValue(_mappedBytes),
            MaxConnectionsPerUser = (int)parse.GetValue(_connectionsPerUser),
        },
    };

    private static Option<long> Count(string name, string variable, int fallback, int maximum, string description) =>
        GateLimitOptions.Create(name, variable, fallback, maximum, isSize: false, $"{description} (default {fallback}, or ${variable})");
}
