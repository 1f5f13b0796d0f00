using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Verifier;

/// <summary>
/// The verifier is switched per driver (`kbridge kernel --verifier all|none|NAME --verifier-exclude
/// NAME`): a driver it does not verify is not checked (Windows answers the odd returns as it always
/// does), except what Windows checks without the verifier too (a second completion, 0x44). Under the
/// Halt policy a violation stops the kernel with the record written.
/// </summary>
public sealed class VerifierSwitchTests
{
    [Fact]
    public void A_driver_left_out_of_the_verifier_is_not_checked_and_not_isolated()
    {
        using var kernel = VerifiedKernel.Start("verify-off", "--verifier", "all", "--verifier-exclude", "KbTest");
        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        // Marked pending and returned success: Windows returns the dispatch routine's status.
        Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING));
        // STATUS_PENDING without the mark: the synchronous caller waits for the completion.
        Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_PENDING_UNMARKED));
        // Information beyond the buffer: what fits is copied (docs/driver-verifier.md).
        Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN, output: new byte[8]));
        Assert.Empty(kernel.Records);
        Assert.False(kernel.Faulted(@"\Driver\KbTest"));
        Assert.True(KernelControl.QueryDrivers(kernel.Gate).Single(d => d.Name == @"\Driver\Echo").Faulted is false);

        // A second completion is caught with or without the verifier, as on Windows; the driver is isolated.
        Assert.Equal(NtStatus.STATUS_SUCCESS, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_COMPLETE_TWICE));
        var record = kernel.WaitForRecord(0x44);
        Assert.False(record.Verified);
        Assert.Equal(@"\Driver\KbTest", record.Driver);
        Assert.True(kernel.Faulted(@"\Driver\KbTest"));
        Assert.True(Kernel32.CloseHandle(file));
        kernel.OthersUnharmed();
    }

    [Fact]
    public void Naming_drivers_verifies_only_those()
    {
        using var kernel = VerifiedKernel.Start("verify-named", "--verifier", "Echo", "KbTest");
        var drivers = KernelControl.QueryDrivers(kernel.Gate);
        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        Assert.Equal(NtStatus.STATUS_DRIVER_INTERNAL_ERROR, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING));
        Assert.True(kernel.WaitForRecord(0xC9).Verified);
        Assert.True(Kernel32.CloseHandle(file));
        kernel.OthersUnharmed();
        Assert.NotEmpty(drivers);
    }

    [Fact]
    public void With_halt_on_fault_a_verifier_violation_stops_the_kernel_and_the_record_outlives_it()
    {
        using var kernel = VerifiedKernel.Start("verify-halt", "--verifier", "KbTest", "--halt-on-fault");
        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        var status = VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING);
        // Failed by the verifier, or cut off by the halt: either way the request failed.
        Assert.True(status == NtStatus.STATUS_DRIVER_INTERNAL_ERROR || status == NtStatus.STATUS_PORT_DISCONNECTED, $"the IOCTL returned {status}");
        Assert.True(kernel.Kernel.Process.WaitForExitAndOutput(TimeSpan.FromSeconds(15)), "the kernel did not halt");
        Assert.Equal(4, kernel.Kernel.Process.Process.ExitCode);
        Assert.True(KbTest.Eventually(() => !kernel.Gate.IsConnected, TimeSpan.FromSeconds(5)), "the client was not disconnected");
        Assert.Contains("BUG CHECK 0x000000C9", kernel.Kernel.Process.Output, StringComparison.Ordinal);

        // `kbridge bugcheck` reads what the halted kernel left.
        var list = Kbridge.Run("bugcheck", "--json", "--instance", kernel.Kernel.Instance);
        Assert.True(list.ExitCode == 0, list.ToString());
        var record = Assert.Single(list.Json().EnumerateArray());
        Assert.Equal(0xC9u, record.GetProperty("code").GetUInt32());
        Assert.Equal(0x23Eul, record.GetProperty("parameter1").GetUInt64());
        Assert.Equal("Halt", record.GetProperty("policy").GetString());
        Assert.Equal(@"\Driver\KbTest", record.GetProperty("driver").GetString());
    }
}
