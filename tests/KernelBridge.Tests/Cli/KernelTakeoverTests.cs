using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// Regression: `kbridge demo` left its auto-started kernel for 5 s, so `kbridge kernel
/// --persistent` right after it exited 3 and the commands after that each started short-lived
/// kernels. Now the tour stops a kernel it started, and `kernel --persistent` takes the place of
/// a kernel that is not persistent: at once if it is idle, after its clients leave if not.
/// </summary>
public sealed class KernelTakeoverTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>The kernel serving <paramref name="instance"/> (asked without starting one), or null.</summary>
    private static KernelState? Serving(string instance)
    {
        try
        {
            using var gate = GateClient.Connect(instance, autoStart: false);
            return KernelControl.QueryState(gate);
        }
        catch (Exception e) when (e is KernelUnavailableException or NtStatusException)
        {
            return null;
        }
    }

    private static ChildProcess StartPersistent(string instance) =>
        ChildProcess.StartDll("kbridge.dll", null, "kernel", "--instance", instance, "--persistent");

    [Fact]
    public void A_persistent_kernel_takes_over_at_once_from_an_idle_kernel_that_is_not_persistent()
    {
        var instance = KernelProcess.NewInstanceName("takeover-idle");
        using var lingering = KernelProcess.Start(instance, "--idle-timeout", "120");
        using var persistent = StartPersistent(instance);
        try
        {
            Assert.True(lingering.Process.WaitForExit(Bound), "the idle kernel that is not persistent was not stopped");
            Assert.Equal(0, lingering.Process.Process.ExitCode);
            Assert.True(KbTest.Eventually(() => Serving(instance) is { Persistent: true } state && state.KernelProcessId == persistent.Id, Bound),
                $"the persistent kernel did not take over; its output:{Environment.NewLine}{persistent.Output}");
            Assert.True(persistent.WaitForLine($"stopping the idle kernel that is not persistent (pid {lingering.Process.Id}) to take over instance '{instance}'", Bound),
                $"the persistent kernel did not say whom it stopped:{Environment.NewLine}{persistent.Output}");
        }
        finally
        {
            Kbridge.Run("kernel", "stop", "--instance", instance);
            persistent.WaitForExit(TimeSpan.FromSeconds(15));
        }
        Assert.Equal(0, persistent.Process.ExitCode);
    }

    [Fact]
    public void A_persistent_kernel_waits_for_the_clients_of_a_kernel_that_is_not_persistent_before_taking_over()
    {
        var instance = KernelProcess.NewInstanceName("takeover-busy");
        using var lingering = KernelProcess.Start(instance, "--idle-timeout", "120");
        ChildProcess? persistent = null;
        try
        {
            using (var client = lingering.Connect())
            {
                persistent = StartPersistent(instance);
                Assert.True(persistent.WaitForLine("taking over once its 1 other clients have left", Bound),
                    $"the persistent kernel did not say it waits; its output:{Environment.NewLine}{persistent.Output}");
                // Nobody loses a handle: the old kernel serves its client until it leaves.
                Thread.Sleep(500);
                Assert.False(lingering.Process.Process.HasExited, "the kernel was stopped under its client");
                Assert.Equal(lingering.Process.Id, KernelControl.QueryState(client).KernelProcessId);
                Assert.False(persistent.Process.HasExited, $"the persistent kernel gave up:{Environment.NewLine}{persistent.Output}");
            }
            Assert.True(lingering.Process.WaitForExit(Bound), "the kernel that is not persistent was not stopped once its client left");
            Assert.True(KbTest.Eventually(() => Serving(instance) is { Persistent: true } state && state.KernelProcessId == persistent.Id, Bound),
                $"the persistent kernel did not take over; its output:{Environment.NewLine}{persistent.Output}");
        }
        finally
        {
            Kbridge.Run("kernel", "stop", "--instance", instance);
            persistent?.WaitForExit(TimeSpan.FromSeconds(15));
            persistent?.Dispose();
        }
    }

    /// <summary>
    /// Clients that keep coming while the persistent kernel takes over are each served, by the old
    /// kernel or the new one: none is cut off by the stop (the old kernel's socket is taken out of
    /// the way before it is stopped, and put back if a client came in meanwhile).
    /// </summary>
    [Fact]
    public void Clients_that_come_during_a_takeover_are_all_served()
    {
        var instance = KernelProcess.NewInstanceName("takeover-traffic");
        using var lingering = KernelProcess.Start(instance, "--idle-timeout", "120");
        ChildProcess? persistent = null;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var served = 0;
        var takenOver = new ManualResetEventSlim();
        try
        {
            persistent = StartPersistent(instance);
            var newPid = persistent.Id;
            // Two clients in a loop until a second after the takeover (bounded): connect, ask, leave.
            // Each may start a kernel when it finds none, as any client would.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            var clients = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                DateTime? until = null;
                while (DateTime.UtcNow < (until ?? deadline))
                {
                    try
                    {
                        using var gate = GateClient.Connect(instance);
                        var state = KernelControl.QueryState(gate);
                        Interlocked.Increment(ref served);
                        if (state.KernelProcessId == newPid) takenOver.Set();
                    }
                    catch (Exception e) when (e is KernelUnavailableException or NtStatusException)
                    {
                        failures.Add(e.Message);
                    }
                    if (takenOver.IsSet) until ??= DateTime.UtcNow.AddSeconds(1);
                    Thread.Sleep(Random.Shared.Next(0, 8));
                }
            })).ToList();
            clients.ForEach(t => t.Start());
            clients.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a client thread hung"));
            Assert.True(failures.IsEmpty, $"{failures.Count} of {served + failures.Count} clients were not served: {string.Join(" | ", failures.Distinct())}");
            Assert.True(KbTest.Eventually(() => Serving(instance) is { Persistent: true } state && state.KernelProcessId == newPid, Bound),
                $"the persistent kernel did not take over; its output:{Environment.NewLine}{persistent.Output}");
            Assert.True(lingering.Process.WaitForExit(Bound), "the kernel that is not persistent still runs");
        }
        finally
        {
            Kbridge.Run("kernel", "stop", "--instance", instance);
            persistent?.WaitForExit(TimeSpan.FromSeconds(15));
            persistent?.Dispose();
            Posix.StopKernel(instance, 0);
            takenOver.Dispose();
        }
    }

    [Fact]
    public void The_tour_stops_the_kernel_it_started_so_a_persistent_one_can_start_at_once()
    {
        var instance = KernelProcess.NewInstanceName("demo-own");
        var directory = InstanceDirectory.Open(instance, create: true);
        var kernelPid = 0;
        try
        {
            var demo = Kbridge.RunWith(null, new Dictionary<string, string?> { ["KBRIDGE_IDLE_TIMEOUT"] = "60" }, "demo", "--json", "--instance", instance);
            Assert.True(demo.ExitCode == 0, demo.ToString());
            var json = demo.Json();
            kernelPid = json.GetProperty("kernelPid").GetInt32();
            Assert.True(json.GetProperty("kernelStopped").GetBoolean(), demo.ToString());
            // Gone by the time the tour returns: socket, pid file and process.
            Assert.False(File.Exists(directory.SocketPath), "the tour left its kernel's socket");
            Assert.False(File.Exists(directory.PidPath), "the tour left its kernel's pid file");
            Assert.False(Posix.IsAlive(kernelPid), $"the kernel the tour started (pid {kernelPid}) still runs");

            using var persistent = KernelProcess.Start(instance, "--persistent");
            Assert.Equal(persistent.Process.Id, Serving(instance)?.KernelProcessId);
        }
        finally
        {
            Posix.StopKernel(instance, kernelPid);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }
}
