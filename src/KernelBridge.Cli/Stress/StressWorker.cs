using System.Diagnostics;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Client.Gate;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// One worker process of `kbridge stress` (`kbridge stress worker`, hidden). It connects, makes its
/// message window, prints <see cref="StressProtocol.Ready"/>, and on <see cref="StressProtocol.Go"/>
/// runs its threads until the duration is up, printing progress lines; then it prints its totals
/// and latency histogram, and keeps its window answering until told <see cref="StressProtocol.Exit"/>
/// (so that workers still running never send to a window that has gone). It exits when its standard
/// input closes, so it never outlives the runner.
/// </summary>
internal sealed class StressWorker(string instance, int index, int processes, int threads, TimeSpan duration, string run) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly StressTally _tally = new();
    private readonly ManualResetEventSlim _go = new();
    private readonly ManualResetEventSlim _exit = new();
    private nint _ownWindow;
    private nint _neighbourWindow;

    public static string WindowName(string run, int index) => $"kbstress-{run}-{index.ToString(CultureInfo.InvariantCulture)}";

    public int Run()
    {
        using var gate = GateClient.Connect(instance, autoStart: false);
        ListenToRunner();
        StartWindow(gate);
        StressProtocol.Say(StressProtocol.Ready);
        if (!WaitFor(_go)) return 1;
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, threads).Select(t => new StressThread(gate, _tally, WindowTarget, HashCode.Combine(run, index, t))).ToList();
        var running = workers.Select((w, t) => new Thread(() => RunThread(w, deadline)) { IsBackground = true, Name = $"stress {t}" }).ToList();
        running.ForEach(t => t.Start());
        while (!running.All(t => t.Join(StressProtocol.ProgressInterval)))
            StressProtocol.Say($"{StressProtocol.Progress} {_tally.Operations} {_tally.Errors}");
        Report(workers);
        WaitFor(_exit);
        return 0;
    }

    private void RunThread(StressThread worker, long deadline)
    {
        try
        {
            worker.Run(deadline);
        }
        catch (Exception e) when (e is NtStatusException or KernelUnavailableException or System.ComponentModel.Win32Exception)
        {
            // Setting the thread up failed (an open, the event): one error, and the thread stops.
            _tally.Done(StressOperation.Ioctl, $"thread setup: {e.Message}");
        }
    }

    private void Report(List<StressThread> workers)
    {
        var latency = new LatencyHistogram();
        foreach (var worker in workers) latency.Add(worker.Latency);
        foreach (var operation in Enum.GetValues<StressOperation>())
            StressProtocol.Say($"{StressProtocol.Operation} {operation} {_tally.DoneOf(operation)} {_tally.ErrorsOf(operation)} {_tally.BusyOf(operation)}");
        foreach (var reason in _tally.Reasons) StressProtocol.Say($"{StressProtocol.Error} {reason.ReplaceLineEndings(" ")}");
        StressProtocol.Say($"{StressProtocol.Latency} {latency.Encode()}");
        StressProtocol.Say($"{StressProtocol.Done} {_tally.Operations} {_tally.Errors}");
    }

    /// <summary>The next worker's window (cross-process); this process's own until that one is found.</summary>
    private nint WindowTarget()
    {
        var target = Volatile.Read(ref _neighbourWindow);
        if (target != 0) return target;
        target = MessageWindow.Find(WindowName(run, (index + 1) % processes));
        if (target == 0) return _ownWindow;
        Volatile.Write(ref _neighbourWindow, target);
        return target;
    }

    private void StartWindow(GateClient gate)
    {
        using var created = new ManualResetEventSlim();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            using var scope = GateClient.Use(gate);
            try
            {
                var window = MessageWindow.Create(WindowName(run, index), (message, wParam, lParam) =>
                    message == StressThread.WindowMessage ? wParam + lParam : 0);
                _ownWindow = window.Handle;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                failure = e;
            }
            created.Set();
            if (failure is null) Pump();
        }) { IsBackground = true, Name = "stress window" };
        thread.Start();
        if (!created.Wait(Patience)) throw new TimeoutException("the stress window thread did not start");
        if (failure is not null) throw failure;
    }

    /// <summary>Answers messages until the process ends; the connection closing under it at exit is that end, not an error.</summary>
    private static void Pump()
    {
        try
        {
            MessageQueue.Run();
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private void ListenToRunner()
    {
        var listener = new Thread(() =>
        {
            while (Console.In.ReadLine() is { } line)
            {
                if (line == StressProtocol.Go) _go.Set();
                if (line == StressProtocol.Exit) break;
            }
            _exit.Set();
            _go.Set();
        }) { IsBackground = true, Name = "stress stdin" };
        listener.Start();
    }

    private bool WaitFor(ManualResetEventSlim signal) => signal.Wait(Patience) && !(_exit.IsSet && signal == _go);

    public void Dispose()
    {
        _go.Dispose();
        _exit.Dispose();
    }
}
