using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Verifier;

/// <summary>`kbridge bugcheck`: the running kernel's records as a table, --json, --show N in full, --clear.</summary>
public sealed class BugCheckCommandTests
{
    [Fact]
    public void Bugcheck_lists_shows_and_clears_the_running_kernels_records()
    {
        using var kernel = VerifiedKernel.Start("verify-cli");
        var instance = kernel.Kernel.Instance;
        var empty = Kbridge.Run("bugcheck", "--instance", instance);
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.Contains("no bug checks", empty.Stdout, StringComparison.Ordinal);

        var file = VerifiedKernel.Open(KbTest.Path(KbTest.NewTag()));
        Assert.Equal(NtStatus.STATUS_DRIVER_INTERNAL_ERROR, VerifiedKernel.Ioctl(file, KbTestFaultInterface.IOCTL_KBTEST_FAULT_PENDING_UNMARKED));
        Assert.True(Kernel32.CloseHandle(file));

        var json = Kbridge.Run("bugcheck", "--json", "--instance", instance);
        Assert.True(json.ExitCode == 0, json.ToString());
        var record = Assert.Single(json.Json().EnumerateArray());
        Assert.Equal(0xC9u, record.GetProperty("code").GetUInt32());
        Assert.Equal("DRIVER_VERIFIER_IOMANAGER_VIOLATION", record.GetProperty("name").GetString());
        Assert.Equal(0x23Dul, record.GetProperty("parameter1").GetUInt64());
        Assert.Equal("IRP_MJ_DEVICE_CONTROL", record.GetProperty("irp").GetProperty("major").GetString());
        var number = record.GetProperty("number").GetInt32();

        var table = Kbridge.Run("bugcheck", "--instance", instance);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("0x000000C9", table.Stdout, StringComparison.Ordinal);
        Assert.Contains(@"\Driver\KbTest", table.Stdout, StringComparison.Ordinal);

        var show = Kbridge.Run("bugcheck", "--show", number.ToString(System.Globalization.CultureInfo.InvariantCulture), "--instance", instance);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("STOP: 0x000000C9 (DRIVER_VERIFIER_IOMANAGER_VIOLATION)", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("parameters: 0x23D", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("IoMarkIrpPending", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("stack:", show.Stdout, StringComparison.Ordinal);

        var missing = Kbridge.Run("bugcheck", "--show", "999", "--instance", instance);
        Assert.Equal(1, missing.ExitCode);

        if (Posix.IsRoot)
        {
            var clear = Kbridge.Run("bugcheck", "--clear", "--instance", instance);
            Assert.True(clear.ExitCode == 0, clear.ToString());
            Assert.Contains("cleared 1", clear.Stdout, StringComparison.Ordinal);
            Assert.Empty(Kbridge.Run("bugcheck", "--json", "--instance", instance).Json().EnumerateArray());
            Assert.Empty(Directory.GetFiles(kernel.Kernel.Directory.BugCheckDirectory));
        }
    }

    [Fact]
    public void KbQueryBugChecks_refuses_flags_it_does_not_know()
    {
        using var kernel = VerifiedKernel.Start("verify-flags");
        using var answer = Syscalls.KbQueryBugChecks(kernel.Gate, new KbQueryBugChecksRequest((BugCheckQueryFlags)0x80));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, answer.Status);
        Assert.Empty(BugChecks.Query(kernel.Gate).Records);
    }
}
