namespace KernelBridge.Cli.Fuzz;

/// <summary>The kernel at one moment: its memory (resident set from /proc, managed heap from KbQueryKernelMemory) and its counts.</summary>
internal sealed record KernelSnapshot(long ResidentBytes, long ManagedHeapBytes, long HeapAfterLastCollectionBytes, int Objects, int Handles, int Clients, int Gen2Collections);

/// <summary>What a fuzz run found. It passed if the kernel never died or changed, the checker never failed, and the kernel came back to its baseline.</summary>
internal sealed record FuzzReport(
    FuzzSettings Settings, TimeSpan Elapsed, int KernelPid, long Executions, long Connections, long KernelHangUps, long RingSessions, long RingsCorrupted,
    long ConnectFailures, long CheckerCalls, long CheckerErrors, string? LastCheckerError, long KernelDeaths, long KernelRestarts,
    KernelSnapshot Before, KernelSnapshot? After, bool BackToBaseline)
{
    public long Crashes => KernelDeaths + KernelRestarts;

    public bool Passed => Crashes == 0 && CheckerErrors == 0 && BackToBaseline;

    public object ToJson() => new
    {
        instance = Settings.Instance, seconds = Math.Round(Elapsed.TotalSeconds, 1), seed = Settings.Seed, workers = Settings.Workers, rings = Settings.Rings,
        kernelPid = KernelPid, executions = Executions, executionsPerSecond = Math.Round(Executions / Math.Max(0.001, Elapsed.TotalSeconds)),
        connections = Connections, kernelHangUps = KernelHangUps, ringSessions = RingSessions, ringsCorrupted = RingsCorrupted, connectFailures = ConnectFailures,
        checkerCalls = CheckerCalls, checkerErrors = CheckerErrors, lastCheckerError = LastCheckerError,
        crashes = Crashes, kernelDeaths = KernelDeaths, kernelRestarts = KernelRestarts,
        before = Snapshot(Before), after = After is null ? null : Snapshot(After), backToBaseline = BackToBaseline, passed = Passed,
    };

    private static object Snapshot(KernelSnapshot s) => new
    {
        residentBytes = s.ResidentBytes, managedHeapBytes = s.ManagedHeapBytes, heapAfterLastCollectionBytes = s.HeapAfterLastCollectionBytes,
        objects = s.Objects, handles = s.Handles, clients = s.Clients, gen2Collections = s.Gen2Collections,
    };
}
