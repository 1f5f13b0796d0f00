namespace KernelBridge.Cli.Bench;

/// <summary>
/// Every measurement `kbridge bench` makes, in the order it makes them: the baselines first, then
/// KernelBridge, each naming the baseline it is compared with; then the comparisons derived from
/// two of them. Adding one is one line:
/// <c>.KernelBridge("key", "what a person reads", "baseline-key", Measurements.Function)</c>.
/// </summary>
internal sealed class BenchRegistry
{
    private readonly List<BenchEntry> _entries = [];
    private readonly List<BenchComparison> _comparisons = [];

    public IReadOnlyList<BenchEntry> Entries => _entries;

    public IReadOnlyList<BenchComparison> Comparisons => _comparisons;

    /// <summary>The measurements of one `kbridge bench` run.</summary>
    public static BenchRegistry Standard() => new BenchRegistry()
        .Baseline("getppid", "getppid", BaselineMeasurements.GetParentProcessId)
        .Baseline("ioctl_fionread", "ioctl(FIONREAD)", BaselineMeasurements.PipeIoctl)
        .Baseline("unix_socket_pingpong", "Unix socket ping-pong", BaselineMeasurements.SocketPingPong)
        .Baseline("shm_polling_pingpong", "shared-memory ping-pong, both polling", BaselineMeasurements.SharedMemoryPollingPingPong)
        .Baseline("futex_pingpong", "futex ping-pong", BaselineMeasurements.FutexPingPong)
        .Baseline("memcpy_1mib", "memcpy 1 MiB", BaselineMeasurements.CopyOneMebibyte)
        .Baseline("shm_ring_64b", "bare shm ring, 2 processes, 64 B records", RingStreamMeasurements.BareRingSmall)
        .Baseline("shm_ring_64b_gbps", "bare shm ring, 2 processes, 64 B records, in GB", RingStreamMeasurements.BareRingSmallBytes)
        .Baseline("shm_ring_64kib", "bare shm ring, 2 processes, 64 KiB records", RingStreamMeasurements.BareRingLarge)
        .Baseline("shm_ring_64kib_gbps", "bare shm ring, 2 processes, 64 KiB records, in GB", RingStreamMeasurements.BareRingLargeBytes)
        .KernelBridge("null_syscall", "null syscall (NtTestAlert)", "getppid", KernelBridgeMeasurements.NullSystemCall)
        .KernelBridge("ioctl", "IOCTL, 64 B, shm gate", "ioctl_fionread", KernelBridgeMeasurements.EchoIoctl)
        .KernelBridge("ioctl_socket_gate", "IOCTL, 64 B, socket gate", "unix_socket_pingpong", KernelBridgeMeasurements.EchoIoctlOnSocketGate)
        .KernelBridge("ioctl_no_spin", "IOCTL, 64 B, shm gate, SPIN=0", "futex_pingpong", KernelBridgeMeasurements.EchoIoctlWithoutSpinning)
        .KernelBridge("ioctl_async_32", "async IOCTLs, 32 in flight", "ioctl_fionread", AsyncIoctlMeasurement.Measure)
        .KernelBridge("ioctl_async_32_inline", "async IOCTLs, 32 in flight, inline completions", "ioctl_fionread", AsyncIoctlMeasurement.MeasureInline)
        .KernelBridge("event_cross_process", "event ping-pong, 2 processes", "unix_socket_pingpong", KernelBridgeMeasurements.CrossProcessEvent)
        .KernelBridge("wait_signalled", "wait, signalled event", "getppid", KernelBridgeMeasurements.SignalledWait)
        .KernelBridge("sendmessage_xproc", "SendMessage round trip, 2 processes", "ioctl", Win32kMeasurements.CrossProcessSendMessage)
        .KernelBridge("postmessage_getmessage", "PostThreadMessage to PeekMessage, 2 processes, messages/s", "ioctl", Win32kMeasurements.CrossProcessPostMessage)
        .Baseline("mmap_munmap_1mib", "mmap + munmap 1 MiB of a memfd", MemoryMeasurements.MapUnmapBaseline)
        .KernelBridge("ramdisk_read_1mib_pooled", "ReadFile 1 MiB, RAM disk into a pooled buffer", "memcpy_1mib", MemoryMeasurements.RamDiskReadPooled)
        .KernelBridge("ramdisk_read_1mib", "ReadFile 1 MiB, RAM disk into ordinary memory", "memcpy_1mib", MemoryMeasurements.RamDiskReadOrdinary)
        .KernelBridge("view_map_unmap_1mib", "map + unmap a 1 MiB view", "mmap_munmap_1mib", MemoryMeasurements.MapUnmapView)
        .KernelBridge("channel_64b", "shared channel, 2 processes, 64 B records", "shm_ring_64b", RingStreamMeasurements.ChannelSmall)
        .KernelBridge("channel_64b_gbps", "shared channel, 2 processes, 64 B records, in GB", "shm_ring_64b_gbps", RingStreamMeasurements.ChannelSmallBytes)
        .KernelBridge("channel_64kib", "shared channel, 2 processes, 64 KiB records", "shm_ring_64kib", RingStreamMeasurements.ChannelLarge)
        .KernelBridge("channel_64kib_gbps", "shared channel, 2 processes, 64 KiB records, in GB", "shm_ring_64kib_gbps", RingStreamMeasurements.ChannelLargeBytes)
        .KernelBridge("driver_channel_64b", "driver's shared channel to this process, 64 B records", "shm_ring_64b", DriverChannelMeasurements.Small)
        .KernelBridge("driver_channel_64kib", "driver's shared channel to this process, 64 KiB records", "shm_ring_64kib", DriverChannelMeasurements.Large)
        .KernelBridge("flt_send_reply", "FltSendMessage + FilterReplyMessage round trip, 64 B", "ioctl", FltPortMeasurements.SendWithReply)
        .KernelBridge("flt_getmessage_iocp", "FilterGetMessage on a completion port, messages", "ioctl", FltPortMeasurements.GetMessageOnCompletionPort)
        .Comparison("shm_vs_socket_gate", "shm gate's speed-up over the socket gate", slower: "ioctl_socket_gate", faster: "ioctl", target: 50);

    /// <summary>A measurement of the real machine, which others are compared with.</summary>
    public BenchRegistry Baseline(string key, string title, Func<BenchContext, BenchResult> measure) =>
        Add(new BenchEntry(key, title, BenchSide.Baseline, null, measure));

    /// <summary>A KernelBridge measurement, compared with the baseline registered as <paramref name="baseline"/>.</summary>
    public BenchRegistry KernelBridge(string key, string title, string baseline, Func<BenchContext, BenchResult> measure) =>
        Add(new BenchEntry(key, title, BenchSide.KernelBridge, baseline, measure));

    /// <summary>
    /// A figure derived once both measurements are in: how many times faster <paramref name="faster"/>
    /// is than <paramref name="slower"/>, with the speed-up it should reach.
    /// </summary>
    public BenchRegistry Comparison(string key, string title, string slower, string faster, double target)
    {
        if (IsTaken(key)) throw new ArgumentException($"the key '{key}' is registered twice", nameof(key));
        foreach (var part in new[] { slower, faster })
            if (!_entries.Any(e => e.Key == part)) throw new ArgumentException($"'{key}' compares '{part}', which is not registered before it", nameof(key));
        _comparisons.Add(new BenchComparison(key, title, slower, faster, target));
        return this;
    }

    /// <summary>
    /// Only the measurements named (and the baselines they are compared with, and the comparisons
    /// whose parts are all there); an unknown key throws <see cref="ArgumentException"/> listing the known ones.
    /// </summary>
    public BenchRegistry Only(IReadOnlyCollection<string> keys)
    {
        var unknown = keys.Where(key => !IsTaken(key)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--only: no measurement named {string.Join(", ", unknown.Select(k => $"'{k}'"))}; the measurements are {string.Join(", ", _entries.Select(e => e.Key).Concat(_comparisons.Select(c => c.Key)))}");
        var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
        foreach (var comparison in _comparisons.Where(c => wanted.Contains(c.Key)))
        {
            wanted.Add(comparison.Slower);
            wanted.Add(comparison.Faster);
        }
        foreach (var entry in _entries.Where(e => wanted.Contains(e.Key)).ToList())
            if (entry.Baseline is { } baseline) wanted.Add(baseline);
        var chosen = new BenchRegistry();
        foreach (var entry in _entries.Where(e => wanted.Contains(e.Key))) chosen.Add(entry);
        foreach (var comparison in _comparisons.Where(c => wanted.Contains(c.Slower) && wanted.Contains(c.Faster))) chosen._comparisons.Add(comparison);
        return chosen;
    }

    private bool IsTaken(string key) => _entries.Any(e => e.Key == key) || _comparisons.Any(c => c.Key == key);

    private BenchRegistry Add(BenchEntry entry)
    {
        if (IsTaken(entry.Key)) throw new ArgumentException($"the measurement '{entry.Key}' is registered twice", nameof(entry));
        if (entry.Baseline is { } baseline && !_entries.Any(e => e.Key == baseline))
            throw new ArgumentException($"'{entry.Key}' is compared with '{baseline}', which is not registered before it", nameof(entry));
        _entries.Add(entry);
        return this;
    }
}
