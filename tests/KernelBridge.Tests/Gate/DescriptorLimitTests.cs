using System.Globalization;
using System.Net.Sockets;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Regression (issue 6): with its descriptor limit reached (`prlimit --nofile=400:400` and 420
/// connections) the kernel's accept loop spun on EMFILE, wrote hundreds of thousands of log lines a
/// second, then the runtime aborted with "Out of memory", leaving its socket and pid file behind.
/// </summary>
public sealed class DescriptorLimitTests
{
    private const int Descriptors = 400;
    private const int Connections = 420;

    /// <summary>Warnings and errors a kernel may log for the whole of a test: the flood was hundreds of thousands a second.</summary>
    private const int WarningBudget = 20;

    [Fact]
    public void A_kernel_with_fewer_descriptors_than_clients_refuses_the_excess_clearly_and_survives()
    {
        var instance = KernelProcess.NewInstanceName("nofile");
        using var kernel = KernelProcess.Start(instance, null, Prlimit(Descriptors), "--persistent");
        using var bystander = GateClient.Connect(instance, autoStart: false);

        var flood = new List<RawGate>();
        int accepted = 0, refused = 0, silent = 0;
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var gate = RawGate.Connect(instance);
                flood.Add(gate);
                gate.SendHello();
            }
            // Every one hears an answer, accepted or refused: nobody is left hanging in the backlog.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            foreach (var gate in flood)
            {
                var left = deadline - DateTime.UtcNow;
                var status = left > TimeSpan.Zero ? gate.HelloStatus(left) : null;
                if (status == NtStatus.STATUS_SUCCESS) accepted++;
                else if (status == NtStatus.STATUS_REQUEST_NOT_ACCEPTED) refused++;
                else silent++;
            }
            var summary = $"{accepted} accepted, {refused} refused, {silent} without an answer; kernel log:{Environment.NewLine}{Tail(kernel.Process.Output)}";
            Assert.True(silent == 0 && refused > 0 && accepted > 0, summary);
            Assert.Equal(kernel.Process.Id, KernelControl.QueryState(bystander).KernelProcessId);
        }
        finally
        {
            flood.ForEach(g => g.Dispose());
        }

        // Once they have gone, a newcomer gets in.
        Assert.True(KbTest.Eventually(() => CanConnect(instance), TimeSpan.FromSeconds(15)), "a new client is still refused after the flood left");
        AssertFewWarnings(kernel.Process.Output);
        StopsCleanly(kernel);
    }

    /// <summary>
    /// The kernel's soft limit is lowered while it runs to its lowest free descriptor, so every accept
    /// fails with EMFILE: it backs off (a few log lines, not a spin), keeps serving the client it
    /// has, and takes the waiting client in once descriptors are free again. (The runtime cannot
    /// start a thread without a free descriptor and aborts if it tries, which is why the kernel
    /// keeps descriptors in reserve; here none are left, so the thread pool's hill climbing, which
    /// starts threads to explore, is turned off for this kernel.)
    /// </summary>
    [Fact]
    public void An_accept_that_fails_with_EMFILE_is_retried_later_without_a_flood_of_log_lines()
    {
        var instance = KernelProcess.NewInstanceName("emfile");
        using var kernel = KernelProcess.Start(instance, RuntimeStartsNoThreads, [], "--persistent");
        var pid = kernel.Process.Id;
        using var bystander = GateClient.Connect(instance, autoStart: false);
        // Once first, while the kernel can still open the assemblies the call needs.
        KernelControl.QueryState(bystander);

        SetSoftLimit(pid, ProcStatus.LowestFreeDescriptor(pid));
        using var waiting = RawGate.Connect(instance);
        try
        {
            waiting.SendHello();
            Assert.Null(waiting.HelloStatus(TimeSpan.FromSeconds(3)));
            Assert.True(!kernel.Process.Process.HasExited, $"the kernel died; its log:{Environment.NewLine}{kernel.Process.Output}");
            Assert.Equal(pid, KernelControl.QueryState(bystander).KernelProcessId);
        }
        finally
        {
            if (!kernel.Process.Process.HasExited) SetSoftLimit(pid, 4096);
        }
        Assert.Equal(NtStatus.STATUS_SUCCESS, waiting.HelloStatus(TimeSpan.FromSeconds(10)));
        Assert.Contains("TooManyOpenSockets", kernel.Process.Output, StringComparison.Ordinal);
        AssertFewWarnings(kernel.Process.Output);
        StopsCleanly(kernel);
    }

    /// <summary>Keeps the thread pool from starting threads on its own (each start needs a descriptor).</summary>
    private static readonly Dictionary<string, string> RuntimeStartsNoThreads = new() { ["DOTNET_HillClimbing_Disable"] = "1" };

    /// <summary>Runs the kernel with <paramref name="descriptors"/> as both its soft and hard limit.</summary>
    private static string[] Prlimit(int descriptors) =>
        [Posix.Which("prlimit") ?? throw new InvalidOperationException("these tests need prlimit (util-linux)"), $"--nofile={descriptors}:{descriptors}"];

    private static void SetSoftLimit(int pid, int descriptors)
    {
        var (exitCode, output) = Posix.Run(Posix.Which("prlimit")!, "--pid", pid.ToString(CultureInfo.InvariantCulture), $"--nofile={descriptors}:");
        Assert.True(exitCode == 0, $"prlimit failed: {output}");
    }

    private static bool CanConnect(string instance)
    {
        try
        {
            using var gate = GateClient.Connect(instance, autoStart: false);
            return true;
        }
        catch (KernelUnavailableException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Few warnings: a line per client that comes and goes is information, not a flood.</summary>
    private static void AssertFewWarnings(string output)
    {
        var warnings = output.Split('\n').Where(line => line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count <= WarningBudget, $"the kernel logged {warnings.Count} warnings; the last ones:{Environment.NewLine}{string.Join(Environment.NewLine, warnings.TakeLast(20))}");
    }

    private static void StopsCleanly(KernelProcess kernel)
    {
        var stop = Kbridge.Run("kernel", "stop", "--instance", kernel.Instance);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.True(kernel.Process.WaitForExit(TimeSpan.FromSeconds(15)), "the kernel did not exit after `kernel stop`");
        Assert.Equal(0, kernel.Process.Process.ExitCode);
        Assert.False(File.Exists(kernel.Directory.SocketPath), "the kernel left its socket behind");
        Assert.False(File.Exists(kernel.Directory.PidPath), "the kernel left its pid file behind");
    }

    private static string Tail(string output) => string.Join(Environment.NewLine, output.Split('\n').TakeLast(20));
}
