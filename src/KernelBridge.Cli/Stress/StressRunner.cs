using System.Diagnostics;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using Spectre.Console;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// Runs `kbridge stress`: a warm-up worker (so that what the kernel makes once, on first use, is
/// not counted as a leak), the baseline (object, handle, IRP and view counts; the kernel's resident
/// memory), N workers started together, a live table while they run, and the comparison once they
/// have all exited. Every worker is killed by its pid if the run ends early.
/// </summary>
internal sealed class StressRunner(StressSettings settings)
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SettlePatience = TimeSpan.FromSeconds(30);
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public StressReport Run(GateClient gate)
    {
        Progress("warming up");
        RunWorkers(1, 1, TimeSpan.FromSeconds(1), $"{_run}w", live: false);
        var before = Settle(gate, null);
        var residentBefore = KernelMemory.Query(gate).ResidentBytes;

        Progress($"starting {settings.Processes} workers");
        var (workers, seconds) = RunWorkers(settings.Processes, settings.Threads, settings.Duration, _run, live: !settings.Json && !Console.IsOutputRedirected);

        var after = Settle(gate, before);
        var residentAfter = KernelMemory.Query(gate).ResidentBytes;
        var latency = new LatencyHistogram();
        foreach (var worker in workers) latency.Add(worker.Latency);
        var perOperation = Enum.GetValues<StressOperation>().Select(o => new StressOperationTotals(o.ToString(),
            workers.Sum(w => w.PerOperation.GetValueOrDefault(o).Done), workers.Sum(w => w.PerOperation.GetValueOrDefault(o).Errors),
            workers.Sum(w => w.PerOperation.GetValueOrDefault(o).Busy))).ToList();
        var lost = workers.Count(w => !w.IsDone);
        return new StressReport(settings.Processes, settings.Threads, seconds, gate.UsesSharedMemory ? "shm" : "socket",
            perOperation.Sum(o => o.Done), perOperation.Sum(o => o.Errors) + lost, perOperation.Sum(o => o.Busy),
            latency.Percentile(0.50), latency.Percentile(0.99), residentBefore, residentAfter,
            new StressLeaks(after.Objects - before.Objects, after.Handles - before.Handles, after.PendingIrps - before.PendingIrps, after.Views - before.Views),
            lost, perOperation, [.. workers.SelectMany(w => w.ErrorReasons.Select(e => $"worker {w.Index}: {e}")).Take(StressTally.KeptErrors)]);
    }

    /// <summary>Starts the workers, waits until all are ready, says go, waits until all are done, then lets them exit.</summary>
    private (List<StressWorkerProcess> Workers, double Seconds) RunWorkers(int processes, int threads, TimeSpan duration, string run, bool live)
    {
        var workers = new List<StressWorkerProcess>();
        try
        {
            for (var i = 0; i < processes; i++)
                workers.Add(StressWorkerProcess.Start(i, WorkerArguments(i, processes, threads, duration, run)));
            foreach (var worker in workers)
                if (!worker.WaitReady(StartPatience))
                    throw new InvalidOperationException($"stress worker {worker.Index} (pid {worker.Id}) did not start; is the kernel running?");
            var watch = Stopwatch.StartNew();
            foreach (var worker in workers) worker.Send(StressProtocol.Go);
            var deadline = duration + StartPatience;
            if (live) ShowLive(workers, watch, duration, deadline);
            else WaitAll(workers, watch, deadline);
            var seconds = watch.Elapsed.TotalSeconds;
            foreach (var worker in workers) worker.Send(StressProtocol.Exit);
            foreach (var worker in workers) worker.WaitForExit(TimeSpan.FromSeconds(30));
            return (workers, seconds);
        }
        finally
        {
            foreach (var worker in workers) worker.Dispose();
        }
    }

    private static void WaitAll(List<StressWorkerProcess> workers, Stopwatch watch, TimeSpan deadline)
    {
        foreach (var worker in workers)
        {
            var left = deadline - watch.Elapsed;
            if (left <= TimeSpan.Zero || !worker.WaitDone(left)) break;
        }
    }

    private static void ShowLive(List<StressWorkerProcess> workers, Stopwatch watch, TimeSpan duration, TimeSpan deadline)
    {
        var table = new Table().AddColumns("elapsed", "workers running", "operations", "ops/s", "errors");
        table.AddRow("", "", "", "", "");
        AnsiConsole.Live(table).AutoClear(false).Start(context =>
        {
            long lastOperations = 0;
            var lastTime = TimeSpan.Zero;
            while (watch.Elapsed < deadline && !workers.All(w => w.IsDone || w.HasExited))
            {
                Thread.Sleep(500);
                var (now, operations) = (watch.Elapsed, workers.Sum(w => w.Operations));
                var rate = (operations - lastOperations) / Math.Max((now - lastTime).TotalSeconds, 0.001);
                (lastOperations, lastTime) = (operations, now);
                var c = CultureInfo.InvariantCulture;
                table.UpdateCell(0, 0, string.Create(c, $"{now.TotalSeconds:0} / {duration.TotalSeconds:0} s"));
                table.UpdateCell(0, 1, string.Create(c, $"{workers.Count(w => !w.IsDone && !w.HasExited)} of {workers.Count}"));
                table.UpdateCell(0, 2, operations.ToString("N0", c));
                table.UpdateCell(0, 3, rate.ToString("N0", c));
                var errors = workers.Sum(w => w.Errors);
                table.UpdateCell(0, 4, errors == 0 ? "0" : $"[red]{errors.ToString("N0", c)}[/]");
                context.Refresh();
            }
        });
    }

    private string[] WorkerArguments(int index, int processes, int threads, TimeSpan duration, string run) =>
    [
        StressCommandNames.Command, StressCommandNames.Worker, "--index", Text(index), "--processes", Text(processes), "--threads", Text(threads),
        "--duration-ms", Text((long)duration.TotalMilliseconds), "--run", run, "--instance", settings.Instance,
    ];

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The kernel's counts once the workers' rundown has finished: polled (bounded) until they are
    /// back to <paramref name="baseline"/>, or, for the baseline itself, until two reads agree.
    /// </summary>
    private static KernelState Settle(GateClient gate, KernelState? baseline)
    {
        var deadline = DateTime.UtcNow + SettlePatience;
        var state = KernelControl.QueryState(gate);
        while (DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
            var next = KernelControl.QueryState(gate);
            var settled = baseline is null
                ? Same(state, next)
                : next.Objects <= baseline.Objects && next.Handles <= baseline.Handles && next.PendingIrps <= baseline.PendingIrps && next.Views <= baseline.Views;
            state = next;
            if (settled) break;
        }
        return state;
    }

    private static bool Same(KernelState a, KernelState b) =>
        a.Objects == b.Objects && a.Handles == b.Handles && a.PendingIrps == b.PendingIrps && a.Views == b.Views;

    private void Progress(string what)
    {
        if (!settings.Json && !Console.IsOutputRedirected) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(what)}...[/]");
    }
}
