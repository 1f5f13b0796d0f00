using System.Diagnostics;
using System.Globalization;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Regression (issue 6): a client that issued many overlapped IOCTLs and then stopped reading its
/// socket (SIGSTOP, a breakpoint, Ctrl-Z) held the kernel's completion threads in a blocking send:
/// every other client and `kbridge kernel stop` hung and the kernel grew past 190 threads. Only the
/// stalled client may suffer: once its backlog passes the limit it is disconnected (and run down).
/// </summary>
public sealed class StalledClientTests
{
    private const int Requests = 256;
    private const int OutputBytes = 16 * 1024;
    private const int BacklogLimit = 1024 * 1024;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void A_client_that_stops_reading_is_disconnected_and_nobody_else_waits_for_it()
    {
        var instance = KernelProcess.NewInstanceName("stalled");
        using var kernel = KernelProcess.Start(instance, ["--persistent", "--driver", KernelProcess.TestDriverPath,
            "--max-client-backlog", BacklogLimit.ToString(CultureInfo.InvariantCulture)]);
        var pid = kernel.Process.Id;
        using var bystander = kernel.Connect();
        var threadsBefore = ProcStatus.Threads(pid);

        // Declared after the kernel, so disposed first: closing it unblocks a kernel stuck sending to it.
        using var stalled = RawGate.Connect(instance);
        stalled.Handshake();
        var handle = stalled.OpenFile(KbTestInterface.Device(KbTestInterface.ServiceName) + KbTest.NewTag());
        // Each request pends and completes a moment later with 16 KiB of output, on a thread of the
        // kernel's pool: 4 MiB of completions for a client that never reads another byte.
        var input = RawIo.Bytes(new ReturnRequest(0, 0, OutputBytes, PendMode.CompleteLater, 1000, 0x5A, OutputBytes));
        for (var i = 0; i < Requests; i++)
            stalled.Post(Syscall.NtDeviceIoControlFile, RawIo.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input.Length, OutputBytes), input);

        // While the completions pile up, everybody else is served at once.
        var maxThreads = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(4))
        {
            Bounded(() =>
            {
                using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: bystander);
                var output = new byte[16];
                var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "still here"u8, output);
                Assert.Equal("still here", Encoding.ASCII.GetString(output, 0, result.Information));
            }, "an Echo IOCTL from another client");
            maxThreads = Math.Max(maxThreads, ProcStatus.Threads(pid));
            Thread.Sleep(100);
        }

        // The stalled client passed its backlog limit: it is gone, said once in the log.
        Assert.True(KbTest.Eventually(() => Bounded(() => KernelControl.QueryState(bystander).Clients, "KbQueryKernelState") == 1, TimeSpan.FromSeconds(20)),
            $"the stalled client is still connected; kernel log:{Environment.NewLine}{kernel.Process.Output}");
        Assert.True(stalled.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel did not close the stalled client's socket");
        var notices = kernel.Process.Output.Split('\n').Count(line => line.Contains("stopped reading", StringComparison.Ordinal));
        Assert.True(notices == 1, $"expected one log line about the stalled client, got {notices}:{Environment.NewLine}{kernel.Process.Output}");
        Assert.True(maxThreads <= threadsBefore + 40, $"the kernel grew from {threadsBefore} to {maxThreads} threads");

        // And the kernel still stops on request.
        var stop = Kbridge.Run("kernel", "stop", "--instance", instance);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.True(kernel.Process.WaitForExit(TimeSpan.FromSeconds(15)), "the kernel did not exit after `kernel stop`");
    }

    /// <summary>Runs a call on another thread and fails the test if it takes longer than <see cref="CallTimeout"/>.</summary>
    private static T Bounded<T>(Func<T> call, string what)
    {
        var task = Task.Run(call);
        Assert.True(task.Wait(CallTimeout), $"{what} did not return within {CallTimeout.TotalSeconds} s");
        return task.Result;
    }

    private static void Bounded(Action call, string what) => Bounded(() =>
    {
        call();
        return 0;
    }, what);
}
