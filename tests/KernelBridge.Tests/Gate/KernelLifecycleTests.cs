using System.Collections.Concurrent;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Tests that change process-wide environment variables (which every child process, kernels
/// included, inherits). xunit runs this collection alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}

/// <summary>Sets an environment variable for the current process and puts the old value back on dispose.</summary>
internal sealed class EnvironmentVariableScope : IDisposable
{
    private readonly string _name;
    private readonly string? _previous;

    public EnvironmentVariableScope(string name, string? value)
    {
        _name = name;
        _previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
}

/// <summary>
/// The first client starts the kernel (as the first Wine process starts wineserver): exactly one,
/// however many race; it serves; it exits a little while after its last client leaves.
/// KBRIDGE_IDLE_TIMEOUT=1 makes "a little while" one second.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class KernelLifecycleTests
{
    private const string IdleVariable = "KBRIDGE_IDLE_TIMEOUT";
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private static void EchoWorks(GateClient gate)
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        var output = new byte[16];
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "auto"u8, output);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal("auto", Encoding.ASCII.GetString(output, 0, result.Information));
    }

    private static string ReadLog(InstanceDirectory directory)
    {
        try
        {
            using var stream = new FileStream(directory.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    [Fact]
    public void The_first_client_starts_a_kernel_that_serves_and_exits_after_the_last_client_leaves()
    {
        var instance = KernelProcess.NewInstanceName("autostart");
        var directory = InstanceDirectory.Open(instance, create: true);
        var pid = 0;
        using var idle = new EnvironmentVariableScope(IdleVariable, "1");
        try
        {
            Assert.False(File.Exists(directory.SocketPath));
            using (var gate = GateClient.Connect(instance))
            {
                pid = gate.KernelProcessId;
                Assert.True(Posix.IsAlive(pid), $"kernel pid {pid} is not running");
                Assert.Contains(instance, Posix.CommandLine(pid), StringComparison.Ordinal);
                Assert.Contains("--detached", Posix.CommandLine(pid), StringComparison.Ordinal);
                Assert.True(File.Exists(directory.SocketPath));
                EchoWorks(gate);
                var state = KernelControl.QueryState(gate);
                Assert.Equal(pid, state.KernelProcessId);
                Assert.False(state.Persistent);
                Assert.Equal(1, state.Clients);
                // A second client of the same instance finds it rather than starting another.
                using var second = GateClient.Connect(instance);
                Assert.Equal(pid, second.KernelProcessId);
            }
            Assert.True(KbTest.Eventually(() => !File.Exists(directory.SocketPath) && !Posix.IsAlive(pid), ExitTimeout),
                $"the kernel (pid {pid}) did not exit within {ExitTimeout.TotalSeconds} s of its last client; log:{Environment.NewLine}{ReadLog(directory)}");
            Assert.Contains("no clients for 1s", ReadLog(directory), StringComparison.Ordinal);
            Assert.False(File.Exists(directory.PidPath), "the kernel left its pid file behind");
        }
        finally
        {
            Posix.StopKernel(instance, pid);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    /// <summary>
    /// Threads of one process race to start the kernel of a fresh instance, in a few rounds (a
    /// race that is lost only sometimes must still fail the test nearly always).
    /// </summary>
    [Fact]
    public void Clients_racing_to_start_a_kernel_end_with_one_kernel()
    {
        using var idle = new EnvironmentVariableScope(IdleVariable, "1");
        for (var round = 1; round <= 3; round++) RaceOnce(round);
    }

    private static void RaceOnce(int round)
    {
        const int racers = 6;
        var instance = KernelProcess.NewInstanceName("race");
        var directory = InstanceDirectory.Open(instance, create: true);
        var gates = new GateClient?[racers];
        var errors = new ConcurrentQueue<Exception>();
        try
        {
            using (var barrier = new Barrier(racers))
            {
                var threads = Enumerable.Range(0, racers).Select(i => new Thread(() =>
                {
                    try
                    {
                        barrier.SignalAndWait(TimeSpan.FromSeconds(30));
                        gates[i] = GateClient.Connect(instance);
                    }
                    catch (Exception e)
                    {
                        errors.Enqueue(e);
                    }
                }) { IsBackground = true }).ToList();
                threads.ForEach(t => t.Start());
                foreach (var thread in threads) Assert.True(thread.Join(TimeSpan.FromSeconds(90)), $"round {round}: a racing Connect did not return");
            }
            Assert.True(errors.IsEmpty, $"round {round}: {errors.Count} of {racers} racing Connects failed:{Environment.NewLine}{string.Join(Environment.NewLine, errors.Select(e => e.GetType().Name + ": " + e.Message))}");
            var pids = gates.Select(g => g!.KernelProcessId).Distinct().ToList();
            Assert.Single(pids);
            Assert.Equal(racers, KernelControl.QueryState(gates[0]).Clients);
            var log = ReadLog(directory);
            Assert.Equal(1, CountOf(log, "listening on"));
            Assert.DoesNotContain("already serves", log, StringComparison.Ordinal);
            foreach (var gate in gates) EchoWorks(gate!);
        }
        finally
        {
            var pid = gates.FirstOrDefault(g => g is not null)?.KernelProcessId ?? 0;
            foreach (var gate in gates) gate?.Dispose();
            Posix.StopKernel(instance, pid);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    /// <summary>
    /// Separate client processes (kbridge ioctl, which auto-starts) race to start the kernel of a
    /// fresh instance: all succeed, against one kernel. The idle timeout is passed to the children
    /// only, so this test needs no process-wide variable.
    /// </summary>
    [Fact]
    public void Client_processes_racing_to_start_a_kernel_all_succeed_with_one_kernel()
    {
        const int racers = 4;
        var instance = KernelProcess.NewInstanceName("prace");
        var directory = InstanceDirectory.Open(instance, create: true);
        var environment = new Dictionary<string, string?> { [IdleVariable] = "1" };
        var processes = new List<System.Diagnostics.Process>();
        try
        {
            for (var i = 0; i < racers; i++)
                processes.Add(Cli.Kbridge.Start(null, environment, "ioctl", "Echo", "0x222000", "--in", "6869", "--json", "--instance", instance));
            var outputs = processes.Select(p => (Stdout: p.StandardOutput.ReadToEndAsync(), Stderr: p.StandardError.ReadToEndAsync())).ToList();
            foreach (var process in processes) Assert.True(process.WaitForExit(TimeSpan.FromSeconds(90)), "a racing kbridge did not finish");
            foreach (var process in processes) process.WaitForExit();
            var results = processes.Zip(outputs, (p, o) => (p.ExitCode, Stdout: o.Stdout.Result, Stderr: o.Stderr.Result)).ToList();
            var failed = results.Where(r => r.ExitCode != 0).ToList();
            Assert.True(failed.Count == 0,
                $"{failed.Count} of {racers} racing clients failed:{Environment.NewLine}{string.Join(Environment.NewLine, failed.Select(r => $"exit {r.ExitCode}: {r.Stderr.Split('\n')[0]}"))}");
            var log = ReadLog(directory);
            Assert.Equal(1, CountOf(log, "listening on"));
            Assert.DoesNotContain("already serves", log, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited) process.Kill();
                process.Dispose();
            }
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void Connect_without_auto_start_to_an_instance_with_no_kernel_says_so_and_starts_nothing()
    {
        var instance = KernelProcess.NewInstanceName("noauto");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            var e = Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(instance, autoStart: false));
            Assert.Contains(instance, e.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(directory.LogPath));
            Assert.False(File.Exists(directory.SocketPath));
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void A_kernel_that_cannot_start_is_reported_with_its_exit_code_not_a_hang()
    {
        var instance = KernelProcess.NewInstanceName("nostart");
        var directory = InstanceDirectory.Open(instance, create: true);
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-kbridge-{Guid.NewGuid():N}");
        using var path = new EnvironmentVariableScope("KBRIDGE_PATH", missing);
        try
        {
            var e = Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(instance));
            Assert.Contains("exited with code 127", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
