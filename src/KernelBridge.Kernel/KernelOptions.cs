using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel;

/// <summary>A driver compiled into the host, started at boot.</summary>
public sealed record BuiltInDriver(string ServiceName, DriverInitialize Entry);

/// <summary>How to run a kernel host.</summary>
public sealed record KernelOptions
{
    /// <summary>The instance name (null: KERNELBRIDGE_INSTANCE, else "default").</summary>
    public string? Instance { get; init; }

    /// <summary>Keep running when the last client leaves.</summary>
    public bool Persistent { get; init; }

    /// <summary>The longest <see cref="IdleTimeout"/>: 30 days (a kernel meant to stay longer is persistent).</summary>
    public static TimeSpan MaxIdleTimeout { get; } = TimeSpan.FromDays(30);

    /// <summary>How long a non-persistent kernel lingers after its last client: 0 to <see cref="MaxIdleTimeout"/>.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the instance's lock (a kernel taking over waits for the one it stopped); 0: not at all.</summary>
    public TimeSpan LockWait { get; init; }

    public IReadOnlyList<BuiltInDriver> BuiltInDrivers { get; init; } = [];

    /// <summary>Driver assemblies to load at boot (boot-start drivers: no privilege check).</summary>
    public IReadOnlyList<string> BootDrivers { get; init; } = [];

    /// <summary>Log every system call and its result.</summary>
    public bool Trace { get; init; }

    public FaultPolicy FaultPolicy { get; init; } = FaultPolicy.Isolate;

    /// <summary>The drivers the driver verifier checks: "all", "none" (the default, as on Windows) or service names.</summary>
    public IReadOnlyList<string> VerifiedDrivers { get; init; } = [];

    /// <summary>Service names the verifier leaves out even under "all".</summary>
    public IReadOnlyList<string> UnverifiedDrivers { get; init; } = [];

    /// <summary>How long a verified driver has to complete an IRP once it is cancelled, before the verifier reports it and completes it.</summary>
    public TimeSpan VerifierCancelTimeout
    {
        get;
        init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(VerifierCancelTimeout), value, "longer than zero");
    } = TimeSpan.FromSeconds(3);

    /// <summary>The default <see cref="MaxSectionSize"/>: 1 GiB.</summary>
    public const long DefaultMaxSectionSize = 1L << 30;

    /// <summary>The largest section a client or driver may create; a larger one is STATUS_SECTION_TOO_BIG.</summary>
    public long MaxSectionSize
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxSectionSize), value, "at least one byte");
    } = DefaultMaxSectionSize;

    /// <summary>The default <see cref="MaxConnections"/>: well below common descriptor limits (1024 and up).</summary>
    public const int DefaultMaxConnections = 512;

    /// <summary>The default <see cref="MaxClientBacklog"/>: two of the largest frames.</summary>
    public const long DefaultMaxClientBacklog = 2L * Abi.Protocol.WireProtocol.MaxFrameLength;

    /// <summary>
    /// The most clients served at once; one more hears STATUS_REQUEST_NOT_ACCEPTED. Lowered at
    /// start if the descriptor limit (RLIMIT_NOFILE) leaves room for fewer.
    /// </summary>
    public int MaxConnections
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxConnections), value, "at least one connection");
    } = DefaultMaxConnections;

    /// <summary>How many bytes of results may wait for a client that does not read them before it is disconnected.</summary>
    public long MaxClientBacklog
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxClientBacklog), value, "at least one byte");
    } = DefaultMaxClientBacklog;

    /// <summary>What each client process may hold, and how many connections one user may have (docs/quotas.md).</summary>
    public QuotaLimits Quotas { get; init; } = new();

    /// <summary>
    /// Grant the shared-memory gate to clients that ask for it (where the system has futex_waitv);
    /// false serves every client on its socket.
    /// </summary>
    public bool SharedMemoryGate { get; init; } = true;

    /// <summary>
    /// Serve other Unix users too: the instance directory becomes searchable by them and the socket
    /// connectable (see docs/access-control.md). Each connecting process still gets its own token.
    /// </summary>
    public bool MultiUser { get; init; }

    /// <summary>With <see cref="MultiUser"/>: only this group's members (name or number) may connect; null: everyone.</summary>
    public string? MultiUserGroup { get; init; }
}
