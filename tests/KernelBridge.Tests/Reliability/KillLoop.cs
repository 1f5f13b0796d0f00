using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using KernelBridge.Platform.Interop;
using KernelBridge.TestClient;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// The killer of <see cref="ClientKillLoopTests"/>: slots running in parallel, each starting a victim
/// (`test-client victim`), letting it run a random few milliseconds, then SIGKILLing it, or SIGSTOPping
/// it for a while and then SIGKILLing it stopped or SIGCONTinuing it and SIGKILLing it later. A kill
/// counts only if the victim was still alive when the signal went. Before each kill the victim's state
/// file says which operation it was in. Any "error" line a victim printed while alive is a failure.
/// </summary>
internal sealed class KillLoop(string instance, string parkDevice, nint window, string stateDirectory, int target)
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly long[] _byOperation = new long[Enum.GetValues<VictimOperation>().Length];
    private long _claimed;
    private long _kills;
    private long _killedStopped;
    private long _continued;
    private long _startupTicks;
    private long _started;

    public ConcurrentQueue<string> Failures { get; } = new();
    public long Kills => Interlocked.Read(ref _kills);
    public long KilledWhileStopped => Interlocked.Read(ref _killedStopped);
    public long StoppedThenContinued => Interlocked.Read(ref _continued);
    public TimeSpan AverageStartup => TimeSpan.FromTicks(Interlocked.Read(ref _startupTicks) / Math.Max(1, Interlocked.Read(ref _started)));

    public IEnumerable<(VictimOperation Operation, long Kills)> KillsByOperation =>
        Enum.GetValues<VictimOperation>().Select(o => (o, Interlocked.Read(ref _byOperation[(int)o])));

    /// <summary>One slot: victims one after another until the loop has claimed <c>target</c> kills (or a failure stops it).</summary>
    public void RunSlot(int slot, string portName)
    {
        var random = new Random(HashCode.Combine(slot, Environment.TickCount));
        var state = Path.Combine(stateDirectory, $"slot{slot.ToString(CultureInfo.InvariantCulture)}");
        while (Failures.IsEmpty && Interlocked.Increment(ref _claimed) <= target)
        {
            try
            {
                OneVictim(random, state, portName);
            }
            catch (Exception e)
            {
                Failures.Enqueue($"slot {slot}: {e}");
            }
        }
    }

    private void OneVictim(Random random, string state, string portName)
    {
        File.WriteAllBytes(state, new byte[4096]);
        var watch = Stopwatch.StartNew();
        using var victim = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "victim", instance, parkDevice, portName,
            window.ToString(CultureInfo.InvariantCulture), state, random.Next().ToString(CultureInfo.InvariantCulture));
        if (!victim.WaitForLine("ready", ReadyTimeout))
        {
            Failures.Enqueue($"a victim (pid {victim.Id}) never said ready:{Environment.NewLine}{victim.Output}");
            return;
        }
        Interlocked.Add(ref _startupTicks, watch.Elapsed.Ticks);
        if (Environment.GetEnvironmentVariable("KBRIDGE_KILL_LOOP_TRACE") is not null) Console.Error.WriteLine($"victim {victim.Id}: {watch.ElapsedMilliseconds} ms to {victim.Output.Trim()}");
        Interlocked.Increment(ref _started);
        Thread.Sleep(random.Next(5, 80));
        var stopped = false;
        if (random.Next(4) == 0)
        {
            Libc.SendSignal(victim.Id, Libc.SIGSTOP);
            Thread.Sleep(random.Next(10, 120));
            if (random.Next(2) == 0)
            {
                Libc.SendSignal(victim.Id, Libc.SIGCONT);
                Interlocked.Increment(ref _continued);
                Thread.Sleep(random.Next(10, 80));
            }
            else
            {
                stopped = true;
            }
        }
        var operation = (VictimOperation)File.ReadAllBytes(state)[0];
        if (victim.Process.HasExited || !Libc.SendSignal(victim.Id, Libc.SIGKILL))
        {
            Failures.Enqueue($"a victim (pid {victim.Id}) ended before it was killed:{Environment.NewLine}{victim.Output}");
            return;
        }
        Interlocked.Increment(ref _kills);
        if (stopped) Interlocked.Increment(ref _killedStopped);
        Interlocked.Increment(ref _byOperation[(int)operation]);
        if (!victim.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            Failures.Enqueue($"a SIGKILLed victim (pid {victim.Id}) did not exit");
            return;
        }
        victim.Process.WaitForExit(); // its output, to the end (the pipe is closed: bounded)
        var errors = victim.Output.Split('\n').Where(l => l.StartsWith("error ", StringComparison.Ordinal)).ToList();
        if (errors.Count > 0) Failures.Enqueue($"a victim (pid {victim.Id}) saw errors while alive:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
    }
}
