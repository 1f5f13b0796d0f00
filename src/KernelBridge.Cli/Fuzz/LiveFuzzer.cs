using System.Diagnostics;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// `kbridge fuzz`: fuzz workers on raw sockets (and, with --rings, on the shared-memory gate) throw
/// random and mutated frames and broken rings at a running kernel while a normal client keeps
/// checking it is served. The kernel must not die (watched by its pid), the checker must never
/// fail, and once the fuzzers are gone the kernel's objects and handles must be back to where they were.
/// </summary>
internal static class LiveFuzzer
{
    /// <summary>How long the kernel may take to run the fuzzers' processes down once they are gone.</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(20);

    /// <summary>Quiet before the last measurement: the kernel gives memory back a couple of seconds after its last frame.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(3);

    public static FuzzReport Run(FuzzSettings settings, Action<FuzzCounters, TimeSpan, int>? progress, CancellationToken cancel)
    {
        var instance = InstanceDirectory.Open(settings.Instance, create: true);
        using var gate = GateClient.Connect(settings.Instance, autoStart: true);
        var kernelPid = KernelControl.QueryState(gate).KernelProcessId;
        var before = Snapshot(gate, kernelPid);
        var counters = new FuzzCounters();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var threads = new List<Thread>();
        for (var i = 0; i < settings.Workers; i++)
        {
            var seed = settings.Seed * 1_000_003 + i;
            // With --rings every other worker abuses the shared-memory gate.
            Action<CancellationToken> body = settings.Rings && i % 2 == 1
                ? new RingFuzzWorker(instance.SocketPath, seed, counters).Run
                : new FrameFuzzWorker(instance.SocketPath, seed, counters).Run;
            threads.Add(Start($"fuzz-{i}", () => body(stop.Token)));
        }
        var checker = Start("fuzz-checker", () => new ServiceChecker(gate, kernelPid, counters).Run(stop.Token));

        var clock = Stopwatch.StartNew();
        var dead = false;
        while (clock.Elapsed < settings.Duration && !cancel.IsCancellationRequested)
        {
            stop.Token.WaitHandle.WaitOne(100);
            if (!dead && !KernelWatch.IsAlive(kernelPid))
            {
                dead = true;
                Interlocked.Increment(ref counters.KernelDeaths);
            }
            progress?.Invoke(counters, clock.Elapsed, kernelPid);
        }
        var elapsed = clock.Elapsed;
        stop.Cancel();
        foreach (var thread in threads.Append(checker)) thread.Join(TimeSpan.FromSeconds(10));
        if (!dead && !KernelWatch.IsAlive(kernelPid)) Interlocked.Increment(ref counters.KernelDeaths);

        KernelSnapshot? after = null;
        var settled = false;
        if (counters.KernelDeaths == 0)
        {
            try
            {
                settled = Settle(gate, before);
                Thread.Sleep(Quiet);
                after = Snapshot(gate, kernelPid);
                settled &= after.Objects == before.Objects && after.Handles == before.Handles;
            }
            catch (Exception e) when (e is KernelUnavailableException or NtStatusException or IOException)
            {
                counters.CheckerFailed($"the kernel did not answer after the run: {e.Message}");
            }
            if (FindKernelPid(settings.Instance) is { } now && now != kernelPid) Interlocked.Increment(ref counters.KernelRestarts);
        }
        return new FuzzReport(settings, elapsed, kernelPid, counters.Executions, counters.Connections, counters.KernelHangUps, counters.RingSessions,
            counters.RingsCorrupted, counters.ConnectFailures, counters.CheckerCalls, counters.CheckerErrors, counters.LastCheckerError,
            counters.KernelDeaths, counters.KernelRestarts, before, after, settled);
    }

    /// <summary>Waits (bounded) until the fuzzers' processes are run down: the clients, objects and handles of before.</summary>
    private static bool Settle(GateClient gate, KernelSnapshot before)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var state = KernelControl.QueryState(gate);
            if (state.Clients == before.Clients && state.Objects == before.Objects && state.Handles == before.Handles) return true;
            if (deadline.Elapsed > SettleLimit) return false;
            Thread.Sleep(100);
        }
    }

    private static KernelSnapshot Snapshot(GateClient gate, int kernelPid)
    {
        var state = KernelControl.QueryState(gate);
        var memory = KernelMemory.Query(gate);
        return new KernelSnapshot(KernelWatch.ResidentBytes(kernelPid) ?? memory.ResidentBytes, memory.ManagedHeapBytes, memory.HeapAfterLastCollectionBytes,
            state.Objects, state.Handles, state.Clients, memory.Gen2Collections);
    }

    /// <summary>The pid of whatever kernel serves the instance now (never starting one), or null.</summary>
    private static int? FindKernelPid(string instance)
    {
        try
        {
            using var probe = GateClient.Connect(instance, autoStart: false);
            return KernelControl.QueryState(probe).KernelProcessId;
        }
        catch (Exception e) when (e is KernelUnavailableException or NtStatusException or IOException)
        {
            return null;
        }
    }

    private static Thread Start(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
