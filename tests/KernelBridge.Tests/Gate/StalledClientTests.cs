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

    /// <summary>
    /// The results a client is slow to read wait for it in order and intact: each overlapped
    /// request's Return (STATUS_PENDING) comes before its Notify, and every Notify carries the
    /// output its own request asked for, though megabytes of them queued while nobody read.
    /// </summary>
    [Fact]
    public void A_client_that_reads_late_gets_every_result_in_order()
    {
        const int count = 64;
        var instance = KernelProcess.NewInstanceName("late-reader");
        using var kernel = KernelProcess.Start(instance, "--persistent", "--driver", KernelProcess.TestDriverPath);
        using var client = RawGate.Connect(instance);
        client.Handshake();
        var handle = client.OpenFile(KbTestInterface.Device(KbTestInterface.ServiceName) + KbTest.NewTag());
        var fillOf = new Dictionary<uint, byte>();
        for (var i = 0; i < count; i++)
        {
            var input = RawIo.Bytes(new ReturnRequest(0, 0, OutputBytes, PendMode.CompleteLater, 200, (uint)i, OutputBytes));
            var sequence = client.Post(Syscall.NtDeviceIoControlFile, RawIo.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input.Length, OutputBytes), input);
            fillOf[sequence] = (byte)i;
        }
        // A megabyte of completions arrives while the client does not read.
        Thread.Sleep(2000);

        var returned = new HashSet<uint>();
        var notified = new HashSet<uint>();
        while (notified.Count < count)
        {
            var frame = client.Receive() ?? throw new InvalidOperationException("the kernel closed the connection of a client that was only late");
            Assert.True(fillOf.ContainsKey(frame.Header.Sequence), $"a frame for call #{frame.Header.Sequence}, which was never made");
            if (frame.Header.Kind == FrameKind.Return)
            {
                Assert.Equal(NtStatus.STATUS_PENDING, (NtStatus)frame.Header.Value);
                Assert.True(returned.Add(frame.Header.Sequence), $"two Returns for call #{frame.Header.Sequence}");
                continue;
            }
            Assert.Equal(FrameKind.Notify, frame.Header.Kind);
            Assert.True(returned.Contains(frame.Header.Sequence), $"the Notify of call #{frame.Header.Sequence} came before its Return");
            Assert.True(notified.Add(frame.Header.Sequence), $"two Notifies for call #{frame.Header.Sequence}");
            var reply = frame.Read<IoTransferReply>();
            Assert.Equal(OutputBytes, (int)reply.DataBytes);
            var output = frame.Body.AsSpan(System.Runtime.CompilerServices.Unsafe.SizeOf<IoTransferReply>());
            Assert.Equal(OutputBytes, output.Length);
            Assert.True(output.IndexOfAnyExcept(fillOf[frame.Header.Sequence]) < 0, $"the output of call #{frame.Header.Sequence} is not its own");
        }
        Assert.Equal(NtStatus.STATUS_SUCCESS, client.QueryState());
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
