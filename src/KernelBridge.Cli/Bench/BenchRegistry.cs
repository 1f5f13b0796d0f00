namespace KernelBridge.Cli.Bench;

/// <summary>
/// Every measurement `kbridge bench` makes, in the order it makes them: the baselines first, then
/// KernelBridge, each naming the baseline it is compared with. Adding one is one line:
/// <c>.KernelBridge("key", "what a person reads", "baseline-key", Measurements.Function)</c>.
/// </summary>
internal sealed class BenchRegistry
{
    private readonly List<BenchEntry> _entries = [];

    public IReadOnlyList<BenchEntry> Entries => _entries;

    /// <summary>The measurements of one `kbridge bench` run.</summary>
    public static BenchRegistry Standard() => new BenchRegistry()
        .Baseline("getppid", "getppid", BaselineMeasurements.GetParentProcessId)
        .Baseline("ioctl_fionread", "ioctl(FIONREAD)", BaselineMeasurements.PipeIoctl)
        .Baseline("unix_socket_pingpong", "Unix socket ping-pong", BaselineMeasurements.SocketPingPong)
        .Baseline("memcpy_1mib", "memcpy 1 MiB", BaselineMeasurements.CopyOneMebibyte)
        // The shared-memory baselines and gate join here, one line each, when the gate exists:
        // raw shared-memory polling ping-pong, raw futex ping-pong, and the IOCTL on the shared-memory gate.
        .KernelBridge("null_syscall", "null syscall (NtTestAlert)", "getppid", KernelBridgeMeasurements.NullSystemCall)
        .KernelBridge("ioctl", "IOCTL, 64 B", "ioctl_fionread", KernelBridgeMeasurements.EchoIoctl)
        .KernelBridge("ioctl_socket_gate", "IOCTL, 64 B, socket gate", "unix_socket_pingpong", KernelBridgeMeasurements.EchoIoctlOnSocketGate)
        .KernelBridge("ioctl_async_32", "async IOCTLs, 32 in flight", "ioctl_fionread", AsyncIoctlMeasurement.Measure)
        .KernelBridge("event_cross_process", "event ping-pong, 2 processes", "unix_socket_pingpong", KernelBridgeMeasurements.CrossProcessEvent)
        .KernelBridge("wait_signalled", "wait, signalled event", "getppid", KernelBridgeMeasurements.SignalledWait);

    /// <summary>A measurement of the real machine, which others are compared with.</summary>
    public BenchRegistry Baseline(string key, string title, Func<BenchContext, BenchResult> measure) =>
        Add(new BenchEntry(key, title, BenchSide.Baseline, null, measure));

    /// <summary>A KernelBridge measurement, compared with the baseline registered as <paramref name="baseline"/>.</summary>
    public BenchRegistry KernelBridge(string key, string title, string baseline, Func<BenchContext, BenchResult> measure) =>
        Add(new BenchEntry(key, title, BenchSide.KernelBridge, baseline, measure));

    private BenchRegistry Add(BenchEntry entry)
    {
        if (_entries.Any(e => e.Key == entry.Key)) throw new ArgumentException($"the measurement '{entry.Key}' is registered twice", nameof(entry));
        if (entry.Baseline is { } baseline && !_entries.Any(e => e.Key == baseline))
            throw new ArgumentException($"'{entry.Key}' is compared with '{baseline}', which is not registered before it", nameof(entry));
        _entries.Add(entry);
        return this;
    }
}
