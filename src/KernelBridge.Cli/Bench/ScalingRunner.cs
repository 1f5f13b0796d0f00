using System.Diagnostics;
using System.Globalization;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// `kbridge bench --scaling`: child processes of kbridge itself (`bench-peer hammer`) send Echo
/// IOCTLs back to back for a fixed time and report their counts, which are summed; then idle
/// children (`bench-peer idle`) stay connected while the kernel's CPU time is read before and after.
/// </summary>
internal static class ScalingRunner
{
    /// <summary>Time for the peers' connections and first calls to settle before the idle kernel is timed.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    public static ScalingResults Run(ScalingPlan plan, BenchContext context, BenchProgress progress)
    {
        var points = new List<ScalingPoint>();
        foreach (var clients in plan.Clients)
        {
            progress.Step($"IOCTL throughput, {clients} client{(clients == 1 ? "" : "s")}");
            points.Add(Throughput(context, clients, plan.Hammer));
        }
        progress.Step($"idle kernel CPU, {plan.IdleClients} idle clients, {plan.Idle.TotalSeconds:0.#} s");
        return new ScalingResults(points, IdleKernel(context, plan.IdleClients, plan.Idle));
    }

    private static ScalingPoint Throughput(BenchContext context, int clients, TimeSpan hammer)
    {
        var peers = StartAll(context, "hammer", clients);
        try
        {
            // One window for all: far enough ahead that every client has its "go" before it opens.
            var start = Stopwatch.GetTimestamp() + (long)(Stopwatch.Frequency * (0.25 + 0.01 * clients));
            var end = start + (long)(Stopwatch.Frequency * hammer.TotalSeconds);
            foreach (var peer in peers) peer.Send(FormattableString.Invariant($"{BenchPeerCommand.Go} {start} {end}"));
            var rates = peers
                .Select(peer => long.Parse(peer.Expect(BenchPeerCommand.Count, hammer + BenchPeer.StartTimeout), CultureInfo.InvariantCulture) / hammer.TotalSeconds)
                .ToArray();
            return new ScalingPoint(clients, rates.Sum(), rates.Min(), rates.Max());
        }
        finally
        {
            foreach (var peer in peers) peer.Dispose();
        }
    }

    private static IdleCpu IdleKernel(BenchContext context, int clients, TimeSpan over)
    {
        var peers = StartAll(context, "idle", clients);
        try
        {
            Thread.Sleep(Settle);
            var kernel = context.Gate.KernelProcessId;
            var before = ProcessCpuTime.Of(kernel);
            var watch = Stopwatch.StartNew();
            Thread.Sleep(over);
            var used = ProcessCpuTime.Of(kernel) - before;
            return new IdleCpu(clients, watch.Elapsed, 100 * used.TotalSeconds / watch.Elapsed.TotalSeconds, kernel);
        }
        finally
        {
            foreach (var peer in peers) peer.Dispose();
        }
    }

    /// <summary>Starts <paramref name="count"/> peers at once, then waits for each to be ready.</summary>
    private static List<BenchPeer> StartAll(BenchContext context, string mode, int count)
    {
        var peers = new List<BenchPeer>(count);
        try
        {
            for (var i = 0; i < count; i++) peers.Add(BenchPeer.Launch(context.Instance, mode, []));
            foreach (var peer in peers) peer.Expect(BenchPeer.Ready, BenchPeer.StartTimeout);
            return peers;
        }
        catch
        {
            foreach (var peer in peers) peer.Dispose();
            throw;
        }
    }
}
