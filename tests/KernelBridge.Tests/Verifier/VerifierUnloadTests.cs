using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Verifier;

/// <summary>
/// What a verified driver leaves behind when it unloads: object references it took and never
/// released (0xC4, parameter 0x62), IRPs it never completed (0xCE). The kernel reports them and
/// releases them, so nothing stays. Loading and unloading need SeLoadDriverPrivilege: these tests
/// need root (CI runs as root); without it there is nothing to load, and they only check that.
/// </summary>
public sealed class VerifierUnloadTests
{
    private static string LoadCopy(string service)
    {
        var status = Ntdll.NtLoadDriver(VerifiedKernel.ServicesKey + service, KernelProcess.TestDriverPath);
        if (!Posix.IsRoot)
        {
            Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, status);
            return "";
        }
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        return KbTestInterface.Win32(service) + KbTest.NewTag();
    }

    [Fact]
    public void A_reference_the_driver_never_released_is_reported_at_unload_and_released()
    {
        using var kernel = VerifiedKernel.Start("verify-leak");
        var path = LoadCopy("KbLeak");
        if (path.Length == 0) return;
        var events = KernelControl.QueryState(kernel.Gate).ObjectsOf("Event");
        var file = VerifiedKernel.Open(path);
        using (var kevent = KernelEvent.Create(manualReset: true, initialState: false, gate: kernel.Gate))
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_LEAK_REFERENCE, KbTest.Bytes(kevent.Handle.Value)));
        }
        Assert.True(Kernel32.CloseHandle(file));
        // The handle is closed; the driver's reference keeps the event.
        Assert.Equal(events + 1, KernelControl.QueryState(kernel.Gate).ObjectsOf("Event"));

        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnloadDriver(VerifiedKernel.ServicesKey + "KbLeak"));
        var record = kernel.WaitForRecord(0xC4);
        Assert.Equal(0x62ul, record.Parameter1);
        Assert.Equal(1ul, record.Parameter3);
        Assert.Equal(@"\Driver\KbLeak", record.Driver);
        Assert.Contains("Event", record.Detail, StringComparison.Ordinal);
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(kernel.Gate).ObjectsOf("Event") == events), "the leaked event was not released");
        // The booted KbTest, another copy of the same code, is not touched.
        Assert.False(kernel.Faulted(@"\Driver\KbTest"));
        kernel.OthersUnharmed();
    }

    [Fact]
    public void Unloading_while_holding_an_IRP_is_reported_and_the_request_ends_with_STATUS_CANCELLED()
    {
        using var kernel = VerifiedKernel.Start("verify-unload");
        var path = LoadCopy("KbHold");
        if (path.Length == 0) return;
        var baseline = KernelControl.QueryState(kernel.Gate);
        var file = VerifiedKernel.Open(path);
        var gate = kernel.Gate;
        NtStatus? result = null;
        var call = new Thread(() =>
        {
            using var scope = GateClient.Use(gate);
            result = VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_NEVER_COMPLETE);
        }) { IsBackground = true };
        call.Start();
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(gate).PendingIrps == 1), "the IOCTL never reached the driver");

        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnloadDriver(VerifiedKernel.ServicesKey + "KbHold"));
        Assert.True(call.Join(TimeSpan.FromSeconds(15)), "the request never ended");
        Assert.Equal(NtStatus.STATUS_CANCELLED, result);
        var record = kernel.WaitForRecord(0xCE);
        Assert.Equal(1ul, record.Parameter1);
        Assert.Equal(@"\Driver\KbHold", record.Driver);
        Assert.Equal(KbTestFaultInterface.IOCTL_KBTEST_FAULT_NEVER_COMPLETE.Value, record.Irp?.IoControlCode);
        Assert.True(Kernel32.CloseHandle(file));
        kernel.OthersUnharmed();
        kernel.NothingLeft(baseline);
    }
}
