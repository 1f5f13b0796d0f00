using System.Diagnostics;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Cli.Stress;
using KernelBridge.Tests.Flt;
using KernelBridge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// Issue 10 item 6: clients SIGKILLed (and SIGSTOPped for a while first) at random points of every
/// kind of operation — synchronous and pending IOCTLs, waits, filter port messages awaiting replies,
/// mapped views, ring producers, cross-process SendMessage — and afterwards the kernel's object,
/// handle, IRP and view counts are back to their baseline, its resident memory within a tolerance,
/// and the clients that lived (a survivor process, a survivor thread, the window being sent to, the
/// victims stopped and continued) saw no error. The kernel is the test's own.
/// KBRIDGE_KILL_LOOP_KILLS sets the number of kills (the suite's default is <see cref="SuiteKills"/>;
/// .ci/kill-loop runs 1,000), KBRIDGE_KILL_LOOP_SLOTS the victims alive at once.
/// </summary>
public sealed class ClientKillLoopTests(ITestOutputHelper output)
{
    public const int SuiteKills = 100;
    private const int DefaultSlots = 4;

    /// <summary>
    /// Resident-memory growth allowed over the loop. The kernel is a .NET process: its GC heap grows
    /// and shrinks with load, so RSS is not an exact count (the object, handle, IRP and view counts are).
    /// 64 MiB is far above what a quiet loop adds (see docs/reliability.md) and below what 1,000 leaked
    /// shared channels (two 4-64 KiB rings each) or views would cost, so a gross leak of memory the
    /// counts do not see still fails.
    /// </summary>
    private const long ResidentTolerance = 64L << 20;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    private static string Describe(KernelState s) =>
        $"objects {s.Objects}, handles {s.Handles}, pending IRPs {s.PendingIrps}, views {s.Views}, clients {s.Clients}";

    private static bool AtBaseline(KernelState now, KernelState baseline) =>
        now.Objects == baseline.Objects && now.Handles == baseline.Handles && now.PendingIrps == baseline.PendingIrps && now.Views == baseline.Views
        && now.Clients == baseline.Clients;

    [Fact]
    public void Clients_killed_at_random_points_of_every_operation_leave_the_kernel_at_its_baseline_and_survivors_unharmed()
    {
        var kills = Setting("KBRIDGE_KILL_LOOP_KILLS", SuiteKills);
        var slots = Setting("KBRIDGE_KILL_LOOP_SLOTS", DefaultSlots);
        var instance = KernelProcess.NewInstanceName("killloop");
        using var kernel = KernelProcess.Start(instance, "--persistent", "--driver", KernelProcess.TestDriverPath);
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        var states = Directory.CreateTempSubdirectory("kb-killloop-");
        var ports = new List<PortTestDriver>();
        try
        {
            using var window = new TestWindow(gate);
            for (var i = 0; i <= slots; i++) ports.Add(PortTestDriver.Create(maxConnections: 1));
            var parkDevice = KbTest.Path(KbTest.NewTag());

            // A warm-up victim first: what the kernel makes once, on first use, is not a leak.
            var warmUp = new KillLoop(instance, parkDevice, window.Handle, states.FullName, 1);
            warmUp.RunSlot(0, ports[0].Name);
            Assert.True(warmUp.Failures.IsEmpty, string.Join(Environment.NewLine, warmUp.Failures));
            var baseline = KernelCounts.WaitFor(gate, s => s.Clients == 1 && s.PendingIrps == 0, TimeSpan.FromSeconds(30));
            Assert.True(KbTest.Eventually(() => KernelControl.QueryState(gate) is var s && AtBaseline(s, baseline) && AtBaseline(KernelControl.QueryState(gate), s)),
                "the kernel's counts did not settle after the warm-up");
            baseline = KernelControl.QueryState(gate);
            var residentBefore = KernelMemory.Query(gate).ResidentBytes;

            var loop = new KillLoop(instance, parkDevice, window.Handle, states.FullName, kills);
            var watch = Stopwatch.StartNew();
            long survived;
            SurvivorThread survivorThread;
            using (var survivor = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "victim", instance, parkDevice, ports[slots].Name,
                window.Handle.ToString(CultureInfo.InvariantCulture), Path.Combine(states.FullName, "survivor"), "7", "survivor"))
            {
                Assert.True(survivor.WaitForLine("ready", TimeSpan.FromSeconds(60)), $"the survivor did not start:{Environment.NewLine}{survivor.Output}");
                using (survivorThread = new SurvivorThread(gate, window.Handle))
                {
                    var threads = Enumerable.Range(0, slots).Select(s => new Thread(() => loop.RunSlot(s, ports[s].Name)) { IsBackground = true }).ToList();
                    threads.ForEach(t => t.Start());
                    foreach (var thread in threads)
                        Assert.True(thread.Join(TimeSpan.FromMinutes(10)), "a kill loop slot did not finish within ten minutes");
                }
                survivor.Process.StandardInput.Close();
                Assert.True(survivor.WaitForLine("survived", TimeSpan.FromSeconds(30)), $"the survivor did not finish:{Environment.NewLine}{survivor.Output}");
                Assert.True(survivor.WaitForExit(TimeSpan.FromSeconds(30)), "the survivor did not exit");
                survivor.Process.WaitForExit();
                Assert.Equal(0, survivor.Process.ExitCode);
                Assert.DoesNotContain("error ", survivor.Output, StringComparison.Ordinal);
                survived = long.Parse(survivor.Output.Split("survived ")[1].Trim(), CultureInfo.InvariantCulture);
            }
            var elapsed = watch.Elapsed;

            Assert.True(loop.Failures.IsEmpty, string.Join(Environment.NewLine, loop.Failures.Take(10)));
            Assert.Equal(kills, loop.Kills);
            Assert.Empty(survivorThread.Failures);
            Assert.Null(window.Failure);

            KernelState now = baseline;
            var settled = KbTest.Eventually(() => AtBaseline(now = KernelControl.QueryState(gate), baseline), TimeSpan.FromSeconds(60));
            var residentAfter = KernelMemory.Query(gate).ResidentBytes;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{loop.Kills} kills ({loop.KilledWhileStopped} while SIGSTOPped, {loop.StoppedThenContinued} more stopped and continued first) in {elapsed.TotalSeconds:0.0} s with {slots} slots; victim start {loop.AverageStartup.TotalMilliseconds:0} ms on average"));
            output.WriteLine("kills by operation: " + string.Join(", ", loop.KillsByOperation.Select(k => $"{k.Operation} {k.Kills}")));
            output.WriteLine($"survivor process {survived} operations, survivor thread {survivorThread.Operations}, window answered {window.Answered}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kernel RSS {residentBefore / 1048576.0:0.0} MiB before, {residentAfter / 1048576.0:0.0} MiB after"));
            output.WriteLine($"baseline {Describe(baseline)}; after {Describe(now)}");
            Assert.True(settled, $"baseline {Describe(baseline)}; after {loop.Kills} kills {Describe(now)}");
            Assert.True(residentAfter - residentBefore < ResidentTolerance,
                $"the kernel's resident memory grew by {(residentAfter - residentBefore) >> 20} MiB over {loop.Kills} kills (tolerance {ResidentTolerance >> 20} MiB)");
        }
        finally
        {
            foreach (var port in ports) port.Dispose();
            try
            {
                states.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
