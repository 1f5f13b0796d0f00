using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Verifier;

/// <summary>
/// docs/driver-verifier.md: a verified driver that breaks one of the I/O manager's rules gets a
/// bug-check record with Windows' stop code and parameters, its request fails with
/// STATUS_DRIVER_INTERNAL_ERROR, it is marked faulted (its later requests fail at once), and every
/// other driver and client carries on with nothing left behind.
/// </summary>
public sealed class DriverVerifierTests
{
    private const string Driver = @"\Driver\KbTest";

    public static TheoryData<string, uint, long> Faults => new()
    {
        // fault, stop code, parameter 1 (-1: an address, not checked)
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_COMPLETE_TWICE), 0x44, -1 },
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_TOUCH_AFTER_COMPLETE), 0xD5, -1 },
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_PENDING_UNMARKED), 0xC9, 0x23D },
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING), 0xC9, 0x23E },
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN), 0xC9, 0x312 },
        { nameof(KbTestFaultInterface.IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN_DIRECT), 0xC9, 0x312 },
        { nameof(KbTestInterface.IOCTL_KBTEST_CRASH), 0x1E, 0xC0000005 },
    };

    internal static CtlCode CodeOf(string name) =>
        (CtlCode)(typeof(KbTestFaultInterface).GetField(name) ?? typeof(KbTestInterface).GetField(name))!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Faults))]
    public void A_verified_driver_that_breaks_a_rule_gets_a_bug_check_its_request_fails_and_only_it_is_isolated(string fault, uint stopCode, long parameter1)
    {
        using var kernel = VerifiedKernel.Start("verify");
        var code = CodeOf(fault);
        var baseline = KernelControl.QueryState(kernel.Gate);
        var tag = KbTest.NewTag();
        var spare = VerifiedKernel.Open(KbTest.Path(tag));
        var faulting = VerifiedKernel.Open(KbTest.Path(tag));

        Assert.Equal(NtStatus.STATUS_DRIVER_INTERNAL_ERROR, VerifiedKernel.Ioctl(faulting, code));

        var record = kernel.WaitForRecord(stopCode);
        if (parameter1 >= 0) Assert.Equal((ulong)parameter1, record.Parameter1);
        Assert.Equal(Driver, record.Driver);
        Assert.True(record.Verified);
        Assert.NotNull(record.Irp);
        Assert.Equal("IRP_MJ_DEVICE_CONTROL", record.Irp.Major);
        Assert.Equal(code.Value, record.Irp.IoControlCode);
        Assert.Equal(Environment.ProcessId, record.Irp.ProcessId);
        Assert.False(string.IsNullOrEmpty(record.Stack));
        Assert.Equal("Isolate", record.Policy);

        // Isolated: later requests on its handles fail at once, opens find no device.
        Assert.True(kernel.Faulted(Driver));
        Assert.Equal(NtStatus.STATUS_DRIVER_INTERNAL_ERROR, VerifiedKernel.Ioctl(spare, KbTestInterface.IOCTL_KBTEST_FSCONTEXT));
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(KbTest.Path(KbTest.NewTag()), KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.True(Kernel32.CloseHandle(spare));
        Assert.True(Kernel32.CloseHandle(faulting));

        kernel.OthersUnharmed();
        kernel.NothingLeft(baseline);
        // The driver's own late work (the completion 200 ms on) is no second fault: one record.
        Thread.Sleep(400);
        Assert.Single(kernel.Records);
    }

    [Fact]
    public void A_cancelled_IRP_the_driver_never_completes_is_reported_and_completed_with_STATUS_CANCELLED()
    {
        using var kernel = VerifiedKernel.Start("verify-cancel");
        var baseline = KernelControl.QueryState(kernel.Gate);
        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        var gate = kernel.Gate;
        var watch = Stopwatch.StartNew();
        NtStatus? result = null;
        var call = new Thread(() =>
        {
            using var scope = Client.Gate.GateClient.Use(gate);
            result = VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_NEVER_COMPLETE);
        }) { IsBackground = true };
        call.Start();
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(gate).PendingIrps == 1), "the IOCTL never reached the driver");
        Assert.Null(result);
        unsafe
        {
            Assert.True(Kernel32.CancelIoEx(file, null), $"CancelIoEx: {Kernel32.GetLastError()}");
        }
        Assert.True(call.Join(TimeSpan.FromSeconds(15)), "the request never ended");
        Assert.Equal(NtStatus.STATUS_CANCELLED, result);
        Assert.True(watch.ElapsedMilliseconds >= VerifiedKernel.CancelTimeoutMs, $"ended after {watch.ElapsedMilliseconds} ms, before the deadline");

        var record = kernel.WaitForRecord(0xC9);
        Assert.Equal(0x200ul, record.Parameter1);
        Assert.Equal((ulong)VerifiedKernel.CancelTimeoutMs, record.Parameter3);
        Assert.Equal(@"\Driver\KbTest", record.Driver);
        Assert.True(kernel.Faulted(@"\Driver\KbTest"));
        Assert.True(Kernel32.CloseHandle(file));
        kernel.OthersUnharmed();
        kernel.NothingLeft(baseline);
    }

    [Fact]
    public void Touching_an_IRP_after_the_request_is_over_is_caught_while_the_IRP_is_in_quarantine()
    {
        using var kernel = VerifiedKernel.Start("verify-touch");
        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        // The request itself was fine when it ended.
        Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_TOUCH_LATER));
        var record = kernel.WaitForRecord(0xD5);
        Assert.Equal(@"\Driver\KbTest", record.Driver);
        Assert.Contains("IoGetCurrentIrpStackLocation", record.Detail, StringComparison.Ordinal);
        Assert.True(kernel.Faulted(@"\Driver\KbTest"));
        Assert.True(Kernel32.CloseHandle(file));
        kernel.OthersUnharmed();
    }
}
