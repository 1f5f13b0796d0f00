using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.TestFilterDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Stack;

/// <summary>
/// Stack set-up as a driver sees it, in kernels of the tests' own (loading filters there must not
/// disturb the shared kernel): a filter whose DriverEntry fails is undone, attachment and all
/// (IopLoadDriver; a failed DriverEntry must leave nothing behind, and what it attached must not
/// keep receiving IRPs).
/// </summary>
public sealed class OwnKernelStackTests
{
    private static readonly uint ReturnBuffered = KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value;

    /// <summary>IoGetDeviceObjectPointer(\Device\KbTestStack) fails without the test driver: DriverEntry returns that status and the filter is not loaded.</summary>
    [Fact]
    public async Task A_filter_whose_target_device_does_not_exist_fails_to_load_and_leaves_no_control_device()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("stack-notarget"), "--persistent", "--driver",
            KernelProcess.TestFilterDriverPath);
        var gate = kernel.Connect();
        try
        {
            var drivers = await StackTest.RunBlocking(gate, () => KernelControl.QueryDrivers(gate)).WaitAsync(StackTest.Timeout);
            Assert.DoesNotContain(drivers, d => d.Name == "KbFilter");
            var (handle, error) = await StackTest.RunBlocking(gate, () => StackTest.CreateFile(KbFilterDriver.ControlWin32Name, access: 0))
                .WaitAsync(StackTest.Timeout);
            Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
            Assert.Equal(2u, error); // ERROR_FILE_NOT_FOUND (STATUS_OBJECT_NAME_NOT_FOUND)
            Assert.True(kernel.Process.WaitForLine("OBJECT_NAME_NOT_FOUND", TimeSpan.FromSeconds(5)),
                $"the kernel did not report why the filter failed to load:{Environment.NewLine}{kernel.Process.Output}");
        }
        finally
        {
            StackTest.DisposeGate(gate);
        }
    }

    /// <summary>
    /// A second instance of the filter attaches above the first (IoAttachDeviceToDeviceStack attaches
    /// to the top of the stack), then fails (its control device name is taken). The loader deletes
    /// its devices, which detaches it: IRPs enter the first filter again and are altered once.
    /// NtLoadDriver needs SeLoadDriverPrivilege (root here); without it the test has nothing to show.
    /// </summary>
    [Fact]
    public async Task A_filter_that_attaches_then_fails_DriverEntry_is_detached_and_IRPs_enter_the_filter_below_it()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("stack-twofilters"), "--persistent",
            "--driver", KernelProcess.TestDriverPath, "--driver", KernelProcess.TestFilterDriverPath);
        var gate = kernel.Connect();
        try
        {
            var (status, message) = await StackTest.RunBlocking(gate, () =>
            {
                var loaded = Ntdll.NtLoadDriver(@"\Registry\Machine\System\CurrentControlSet\Services\KbFilter2", KernelProcess.TestFilterDriverPath, out var text);
                return (loaded, text);
            }).WaitAsync(StackTest.Timeout);
            if (status == NtStatus.STATUS_PRIVILEGE_NOT_HELD) return;
            Assert.True(status == NtStatus.STATUS_OBJECT_NAME_COLLISION, $"NtLoadDriver gave {status}: {message}");
            var drivers = await StackTest.RunBlocking(gate, () => KernelControl.QueryDrivers(gate)).WaitAsync(StackTest.Timeout);
            Assert.DoesNotContain(drivers, d => d.Name == "KbFilter2");

            var tag = KbTest.NewTag();
            var (ok, error, returned, output) = await StackTest.RunBlocking(gate, () =>
            {
                var handle = StackTest.MustOpen(StackTest.StackPath(tag));
                try
                {
                    return StackTest.SyncIoctl(handle, ReturnBuffered,
                        StackTest.Input(new ReturnRequest(0, 0, 4, PendMode.None, 0, 0x41, 4)), 4);
                }
                finally
                {
                    Kernel32.CloseHandle(handle);
                }
            }).WaitAsync(StackTest.Timeout);
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            Assert.Equal(4u, returned);
            Assert.Equal([(byte)'F', 0x61, 0x61, 0x61], output);
            var counters = await StackTest.RunBlocking(gate, StackTest.FilterCounters).WaitAsync(StackTest.Timeout);
            Assert.Equal(1, counters.Altered);
            Assert.Equal(1, counters.CompletionCalls);
        }
        finally
        {
            StackTest.DisposeGate(gate);
        }
    }
}
