using KernelBridge.Abi.Win32k;

namespace KernelBridge.Kernel;

/// <summary>
/// What one client may hold in the kernel, so that one hostile client cannot exhaust it. Each
/// limit is checked where the resource is taken and given back on every path (success, failure,
/// cancel, process rundown). Defaults are far above what any well-behaved program, test or
/// benchmark needs; an out-of-range value is refused with an <see cref="ArgumentOutOfRangeException"/>.
/// See docs/quotas.md.
/// </summary>
public sealed record QuotaLimits
{
    public const int DefaultMaxHandles = 65_536;
    public const int DefaultMaxPendingIrps = 4_096;
    public const int DefaultMaxCompletionPackets = 65_536;
    public const int DefaultMaxPostedMessages = UserLimits.PostMessageLimit;
    public const int DefaultMaxPortMessages = 4_096;
    public const long DefaultMaxMappedBytes = 64L << 30;
    public const int DefaultMaxConnectionsPerUser = 256;

    /// <summary>The highest handle quota: the handle table's own limit.</summary>
    public const int MaxHandlesLimit = Ob.HandleTable.MaxHandles;

    /// <summary>The highest quota of IRPs, packets or messages (a bound on the bound).</summary>
    public const int MaxCountLimit = 1 << 24;

    /// <summary>Handles in one process's handle table (at most the table's own limit of 2^24).</summary>
    public int MaxHandles
    {
        get;
        init => field = InRange(value, 1, MaxHandlesLimit, nameof(MaxHandles), "handles");
    } = DefaultMaxHandles;

    /// <summary>I/O requests one process has in flight at once (IRPs its calls sent that have not completed).</summary>
    public int MaxPendingIrps
    {
        get;
        init => field = InRange(value, 1, MaxCountLimit, nameof(MaxPendingIrps), "IRPs");
    } = DefaultMaxPendingIrps;

    /// <summary>Completion packets one process has queued by hand (PostQueuedCompletionStatus) that nobody has taken yet.</summary>
    public int MaxCompletionPackets
    {
        get;
        init => field = InRange(value, 1, MaxCountLimit, nameof(MaxCompletionPackets), "packets");
    } = DefaultMaxCompletionPackets;

    /// <summary>Messages posted to one thread's queue and not yet taken (Windows' USERPostMessageLimit, 10,000 by default).</summary>
    public int MaxPostedMessages
    {
        get;
        init => field = InRange(value, 1, MaxCountLimit, nameof(MaxPostedMessages), "messages");
    } = DefaultMaxPostedMessages;

    /// <summary>Filter port messages waiting for one process to take them (FilterGetMessage).</summary>
    public int MaxPortMessages
    {
        get;
        init => field = InRange(value, 1, MaxCountLimit, nameof(MaxPortMessages), "messages");
    } = DefaultMaxPortMessages;

    /// <summary>Bytes of section views one process has mapped at once.</summary>
    public long MaxMappedBytes
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxMappedBytes), value, "the mapped-bytes quota must be at least one byte");
    } = DefaultMaxMappedBytes;

    /// <summary>Connections (client processes) one Unix user may have at once; the next is refused with STATUS_CONNECTION_COUNT_LIMIT.</summary>
    public int MaxConnectionsPerUser
    {
        get;
        init => field = InRange(value, 1, int.MaxValue, nameof(MaxConnectionsPerUser), "connections");
    } = DefaultMaxConnectionsPerUser;

    /// <summary>No limit at all but the structures' own: the System process's.</summary>
    public static QuotaLimits Unlimited { get; } = new()
    {
        MaxHandles = MaxHandlesLimit,
        MaxPendingIrps = MaxCountLimit,
        MaxCompletionPackets = MaxCountLimit,
        MaxPostedMessages = MaxCountLimit,
        MaxPortMessages = MaxCountLimit,
        MaxMappedBytes = long.MaxValue,
        MaxConnectionsPerUser = int.MaxValue,
    };

    private static int InRange(int value, int minimum, int maximum, string name, string unit) =>
        value >= minimum && value <= maximum
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"the {name} quota must be {minimum} to {maximum} {unit}, not {value}");
}
