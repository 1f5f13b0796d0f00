using System.Text.Json;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Cli;

/// <summary>`kbridge kernel`, `kernel status` and `kernel stop`, each on an instance of its own.</summary>
public sealed class KernelCommandTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public void A_second_kernel_on_a_running_instance_exits_with_code_3()
    {
        var instance = KernelProcess.NewInstanceName("second");
        using var first = KernelProcess.Start(instance, "--persistent");
        using var second = ChildProcess.StartDll("kbridge.dll", null, "kernel", "--instance", instance, "--persistent");
        Assert.True(second.WaitForExitAndOutput(TimeSpan.FromSeconds(30)), "the second kernel is still running");
        Assert.Equal(3, second.Process.ExitCode);
        Assert.Contains($"a kernel already serves instance '{instance}'", second.Output, StringComparison.Ordinal);
        // The first one is untouched.
        using var gate = first.Connect();
        Assert.Equal(first.Process.Id, KernelControl.QueryState(gate).KernelProcessId);
    }

    [Fact]
    public void A_persistent_kernel_stays_after_its_last_client_leaves()
    {
        var instance = KernelProcess.NewInstanceName("persist");
        using var kernel = KernelProcess.Start(instance, "--persistent", "--idle-timeout", "0.2");
        using (var gate = kernel.Connect())
        {
            Assert.True(KernelControl.QueryState(gate).Persistent);
        }
        Thread.Sleep(1500);
        Assert.False(kernel.Process.Process.HasExited, "the persistent kernel exited when its last client left");
        Assert.True(File.Exists(kernel.Directory.SocketPath));
        using var again = kernel.Connect();
        var state = KernelControl.QueryState(again);
        Assert.True(state.Persistent);
        Assert.Equal(1, state.Clients);
    }

    [Fact]
    public void A_kernel_without_persistent_exits_with_code_0_after_its_idle_timeout()
    {
        var instance = KernelProcess.NewInstanceName("idle");
        using var kernel = KernelProcess.Start(instance, "--idle-timeout", "3");
        using (var gate = kernel.Connect())
        {
            Assert.False(KernelControl.QueryState(gate).Persistent);
        }
        Assert.True(kernel.Process.WaitForExitAndOutput(ExitTimeout), "the kernel did not exit after its last client left");
        Assert.Equal(0, kernel.Process.Process.ExitCode);
        Assert.False(File.Exists(kernel.Directory.SocketPath), "the kernel left its socket behind");
        Assert.Contains("no clients for 3s", kernel.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_with_no_kernel_exits_with_code_3()
    {
        var instance = KernelProcess.NewInstanceName("status-none");
        try
        {
            var text = Kbridge.Run("kernel", "status", "--instance", instance);
            Assert.Equal(3, text.ExitCode);
            Assert.Contains($"no kernel is running for instance '{instance}'", text.Stdout, StringComparison.Ordinal);

            var json = Kbridge.Run("kernel", "status", "--json", "--instance", instance);
            Assert.Equal(3, json.ExitCode);
            var root = json.Json();
            Assert.Equal(instance, root.GetProperty("instance").GetString());
            Assert.False(root.GetProperty("running").GetBoolean());
            // Asking did not start one.
            Assert.False(File.Exists(InstanceDirectory.Open(instance, create: false).LogPath));
        }
        finally
        {
            Posix.DeleteInstanceDirectory(InstanceDirectory.Open(instance, create: true).Path);
        }
    }

    [Fact]
    public void Status_of_a_running_kernel_as_text_and_json()
    {
        var instance = KernelProcess.NewInstanceName("status");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        var pid = kernel.Process.Id;

        var text = Kbridge.Run("kernel", "status", "--instance", instance);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"pid {pid}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains(instance, text.Stdout, StringComparison.Ordinal);
        Assert.Contains("persistent", text.Stdout, StringComparison.Ordinal);

        var json = Kbridge.Run("kernel", "status", "--json", "--instance", instance);
        Assert.True(json.ExitCode == 0, json.ToString());
        var root = json.Json();
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(instance, root.GetProperty("instance").GetString());
        Assert.True(root.GetProperty("running").GetBoolean());
        Assert.Equal(pid, root.GetProperty("pid").GetInt32());
        Assert.Equal(WireProtocol.Version, root.GetProperty("protocol").GetUInt32());
        Assert.True(root.GetProperty("persistent").GetBoolean());
        Assert.Equal(1, root.GetProperty("clients").GetInt32()); // the status command itself
        Assert.True(root.GetProperty("drivers").GetInt32() >= 2, "Null and Echo are built in");
        Assert.True(root.GetProperty("objects").GetInt32() > 0);
        var types = root.GetProperty("types").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Contains("Device", types);
        Assert.Contains("File", types);
    }

    [Fact]
    public void Stop_stops_the_kernel_and_its_clients_see_the_disconnect()
    {
        var instance = KernelProcess.NewInstanceName("stop");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        using var gate = kernel.Connect();

        var stop = Kbridge.Run("kernel", "stop", "--instance", instance);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains($"stopped the kernel of instance '{instance}' (pid {kernel.Process.Id})", stop.Stdout, StringComparison.Ordinal);
        Assert.True(kernel.Process.WaitForExit(ExitTimeout), "the kernel did not exit after `kernel stop`");
        Assert.Equal(0, kernel.Process.Process.ExitCode);
        Assert.False(File.Exists(kernel.Directory.SocketPath));
        Assert.True(KbTest.Eventually(() => !gate.IsConnected, TimeSpan.FromSeconds(5)));

        var again = Kbridge.Run("kernel", "stop", "--instance", instance);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("no kernel is running", again.Stdout, StringComparison.Ordinal);
        Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(instance, autoStart: false));
    }
}
