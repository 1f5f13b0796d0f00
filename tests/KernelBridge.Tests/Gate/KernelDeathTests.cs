using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// DESIGN.md: "A dead kernel gives clients a clear error (STATUS_PORT_DISCONNECTED-style), never a
/// hang." Each test runs its own kernel with the test driver, blocks two calls in parked IOCTLs
/// (one through Kernel32, one through Ntdll) on other threads, then stops or kills the kernel.
/// </summary>
public sealed class KernelDeathTests
{
    private static readonly TimeSpan ReturnTimeout = TimeSpan.FromSeconds(15);

    private sealed class BlockedCall(Thread thread, ManualResetEventSlim done) : IDisposable
    {
        public Thread Thread { get; } = thread;
        public ManualResetEventSlim Done { get; } = done;
        public bool Kernel32Result { get; set; } = true;
        public uint LastError { get; set; }
        public NtStatus Status { get; set; }
        public TimeSpan Elapsed { get; set; }

        public void Dispose() => Done.Dispose();
    }

    private static byte[] ParkRequest() => KbTest.Bytes(new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));

    /// <summary>Starts a synchronous parked IOCTL on a thread of its own, through <paramref name="gate"/>.</summary>
    private static BlockedCall Block(GateClient gate, nint handle, bool throughKernel32)
    {
        var done = new ManualResetEventSlim();
        BlockedCall? call = null;
        var thread = new Thread(() =>
        {
            var watch = Stopwatch.StartNew();
            using (GateClient.Use(gate))
            {
                var output = new byte[16];
                if (throughKernel32)
                {
                    uint returned = 0;
                    call!.Kernel32Result = Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, ParkRequest(), output, ref returned);
                    call.LastError = Kernel32.GetLastError();
                }
                else
                {
                    var iosb = default(IO_STATUS_BLOCK);
                    call!.Status = KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, ParkRequest(), output, ref iosb);
                }
            }
            call.Elapsed = watch.Elapsed;
            done.Set();
        }) { IsBackground = true, Name = throughKernel32 ? "blocked Kernel32 caller" : "blocked Ntdll caller" };
        call = new BlockedCall(thread, done);
        thread.Start();
        return call;
    }

    private static void BlockedCallersSeeThePortDisconnect(string purpose, Action<KernelProcess, GateClient> stop, int expectedKernelExit)
    {
        var instance = KernelProcess.NewInstanceName(purpose);
        using var kernel = KernelProcess.Start(instance, "--persistent", "--driver", KernelProcess.TestDriverPath);
        using var gate = kernel.Connect();
        using var observer = kernel.Connect();
        var tag = KbTest.NewTag();
        nint first, second;
        using (GateClient.Use(gate))
        {
            first = KbTest.Open(tag);
            second = KbTest.Open(tag);
        }
        using var viaKernel32 = Block(gate, first, throughKernel32: true);
        using var viaNtdll = Block(gate, second, throughKernel32: false);
        using (GateClient.Use(observer))
        {
            Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Parked == 2), $"the IOCTLs did not park: parked {KbTest.Counters(tag).Parked}");
        }
        Assert.False(viaKernel32.Done.IsSet);
        Assert.False(viaNtdll.Done.IsSet);

        stop(kernel, observer);

        Assert.True(viaKernel32.Done.Wait(ReturnTimeout), $"the blocked DeviceIoControl did not return within {ReturnTimeout.TotalSeconds} s of the kernel going");
        Assert.True(viaNtdll.Done.Wait(ReturnTimeout), $"the blocked NtDeviceIoControlFile did not return within {ReturnTimeout.TotalSeconds} s of the kernel going");
        Assert.False(viaKernel32.Kernel32Result);
        Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, viaKernel32.LastError);
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, viaNtdll.Status);
        Assert.True(KbTest.Eventually(() => !gate.IsConnected, TimeSpan.FromSeconds(5)), "the connection still says it is connected");

        // Later calls on that connection fail at once, with the same status.
        var watch = Stopwatch.StartNew();
        using (GateClient.Use(gate))
        {
            Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, Ntdll.NtClose(first));
            var iosb = default(IO_STATUS_BLOCK);
            Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, KbTest.Ioctl(second, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, new byte[8], ref iosb));
            var handle = Kernel32.CreateFile(KbTest.Path(tag), KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
            Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
        var thrown = Assert.Throws<NtStatusException>(() => KernelControl.QueryState(gate));
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, thrown.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"calls on a dead connection took {watch.Elapsed.TotalMilliseconds:0} ms");

        Assert.True(kernel.Process.WaitForExit(ReturnTimeout), "the kernel process did not exit");
        Assert.Equal(expectedKernelExit, kernel.Process.Process.ExitCode);
    }

    [Fact]
    public void Shutdown_from_another_connection_fails_blocked_calls_with_STATUS_PORT_DISCONNECTED()
    {
        BlockedCallersSeeThePortDisconnect("death-stop", (_, observer) =>
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, KernelControl.Shutdown(observer));
        }, expectedKernelExit: 0);
    }

    [Fact]
    public void SIGKILL_of_the_kernel_fails_blocked_calls_with_STATUS_PORT_DISCONNECTED()
    {
        BlockedCallersSeeThePortDisconnect("death-kill", (kernel, _) => kernel.Process.Kill(), expectedKernelExit: 137);
    }

    [Fact]
    public void A_connection_to_a_kernel_that_is_gone_fails_its_first_call_at_once()
    {
        var instance = KernelProcess.NewInstanceName("death-idle");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        using var gate = kernel.Connect();
        Assert.Equal(kernel.Process.Id, KernelControl.QueryState(gate).KernelProcessId);
        kernel.Process.Kill();
        var watch = Stopwatch.StartNew();
        // Whether or not the reader thread has noticed yet, the call must not hang.
        var thrown = Assert.Throws<NtStatusException>(() => KernelControl.QueryState(gate));
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, thrown.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.False(gate.IsConnected);
        // And reconnecting without auto-start says plainly that nobody is there.
        Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(instance, autoStart: false));
    }
}
