using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// DESIGN.md: "A driver exception fails the request (STATUS_DRIVER_INTERNAL_ERROR-style), marks
/// that driver faulted and writes a bug-check style report; the other drivers and clients carry
/// on. A policy can make it halt the kernel instead."
/// </summary>
public sealed class DriverFaultTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";

    private static NtStatus StatusOfOpen(string path, GateClient gate)
    {
        try
        {
            using var file = DeviceFile.Open(path, gate: gate);
            return NtStatus.STATUS_SUCCESS;
        }
        catch (NtStatusException e)
        {
            return e.Status;
        }
    }

    private static string? FindReport(string directory, string driverName)
    {
        if (!Directory.Exists(directory)) return null;
        return Directory.GetFiles(directory).Select(File.ReadAllText).FirstOrDefault(text => text.Contains(driverName, StringComparison.Ordinal));
    }

    private static void EchoWorks(GateClient gate)
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        var output = new byte[16];
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "alive"u8, output);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal("alive", Encoding.ASCII.GetString(output, 0, result.Information));
    }

    /// <summary>
    /// As root, a second copy of the test driver is loaded as KbCrash and crashed, so KbTest can
    /// show that the other drivers carry on. Without root nothing can be loaded at run time, so the
    /// boot-loaded KbTest itself is crashed and only Echo is checked afterwards.
    /// </summary>
    [Fact]
    public void A_driver_exception_fails_the_request_writes_a_report_and_marks_only_that_driver_faulted()
    {
        var gate = fixture.Gate;
        var target = Posix.IsRoot ? "KbCrash" : KbTestInterface.ServiceName;
        var device = KbTestInterface.Win32(target);
        using var scope = GateClient.Use(gate);
        if (Posix.IsRoot)
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtLoadDriver(ServicesKey + target, KernelProcess.TestDriverPath));

        var spare = Kernel32.CreateFile(device + @"\spare", KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        var crashing = Kernel32.CreateFile(device + @"\crash", KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, spare);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, crashing);

        var iosb = default(IO_STATUS_BLOCK);
        var status = KbTest.Ioctl(crashing, KbTestInterface.IOCTL_KBTEST_CRASH, null, null, ref iosb);
        Assert.Equal(NtStatus.STATUS_DRIVER_INTERNAL_ERROR, status);

        // The report.
        string? report = null;
        Assert.True(KbTest.Eventually(() => (report = FindReport(fixture.Directory.BugCheckDirectory, @"\Driver\" + target)) is not null),
            $"no bug-check report naming \\Driver\\{target} in {fixture.Directory.BugCheckDirectory}");
        Assert.Contains("KMODE_EXCEPTION_NOT_HANDLED", report, StringComparison.Ordinal);
        Assert.Contains("0x0000001E", report, StringComparison.Ordinal);
        Assert.Contains($@"driver: \Driver\{target}", report, StringComparison.Ordinal);
        Assert.Contains(nameof(NullReferenceException), report, StringComparison.Ordinal);
        Assert.Contains("IRP_MJ_DEVICE_CONTROL", report, StringComparison.Ordinal);
        Assert.Contains("policy: Isolate", report, StringComparison.Ordinal);
        Assert.True(KbTest.Eventually(() => fixture.Kernel.Process.Output.Contains("BUG CHECK 0x0000001E", StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            "the kernel's log does not report the bug check");

        // `driver list --json` shows it faulted, and only it.
        var list = Kbridge.Run("driver", "list", "--json", "--instance", fixture.Instance);
        Assert.True(list.ExitCode == 0, list.ToString());
        var faulted = list.Json().EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("faulted").GetBoolean());
        Assert.True(faulted[@"\Driver\" + target]);
        Assert.False(faulted[@"\Driver\Echo"]);
        if (Posix.IsRoot) Assert.False(faulted[@"\Driver\KbTest"]);

        // A faulted driver is never called again: opens fail, requests on old handles fail, closes still work.
        Assert.Equal(NtStatus.STATUS_NO_SUCH_DEVICE, StatusOfOpen(device + @"\after", gate));
        Assert.Equal(NtStatus.STATUS_NO_SUCH_DEVICE, StatusOfOpen(device, gate));
        uint returned = 0;
        Assert.False(Kernel32.DeviceIoControl(spare, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, [], new byte[8], ref returned));
        Assert.Equal((uint)Win32Error.ERROR_IO_DEVICE, Kernel32.GetLastError());
        Assert.True(Kernel32.CloseHandle(spare));
        Assert.True(Kernel32.CloseHandle(crashing));

        // Everyone else carries on.
        EchoWorks(gate);
        if (Posix.IsRoot)
        {
            var tag = KbTest.NewTag();
            var handle = KbTest.Open(tag);
            Assert.True(Kernel32.CloseHandle(handle));
            Assert.Equal(1, KbTest.Counters(tag).Closes);
        }
        Assert.False(fixture.Kernel.Process.Process.HasExited);
        using var another = fixture.Kernel.Connect();
        EchoWorks(another);
    }

    [Fact]
    public void With_halt_on_fault_a_driver_exception_stops_the_kernel_with_exit_code_4()
    {
        var instance = KernelProcess.NewInstanceName("halt");
        using var kernel = KernelProcess.Start(instance, "--persistent", "--halt-on-fault", "--driver", KernelProcess.TestDriverPath);
        var reports = kernel.Directory.BugCheckDirectory;
        using (var gate = kernel.Connect())
        using (GateClient.Use(gate))
        {
            var handle = KbTest.Open(KbTest.NewTag());
            var iosb = default(IO_STATUS_BLOCK);
            var status = KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_CRASH, null, null, ref iosb);
            // The request fails either way: failed by the I/O manager, or cut off by the halt.
            Assert.True(status == NtStatus.STATUS_DRIVER_INTERNAL_ERROR || status == NtStatus.STATUS_PORT_DISCONNECTED, $"the crashing IOCTL returned {status}");
            Assert.True(kernel.Process.WaitForExitAndOutput(TimeSpan.FromSeconds(15)), "the kernel did not halt");
            Assert.Equal(4, kernel.Process.Process.ExitCode);
            Assert.True(KbTest.Eventually(() => !gate.IsConnected, TimeSpan.FromSeconds(5)));
        }
        var report = FindReport(reports, @"\Driver\KbTest");
        Assert.NotNull(report);
        Assert.Contains("KMODE_EXCEPTION_NOT_HANDLED", report, StringComparison.Ordinal);
        Assert.Contains("policy: Halt", report, StringComparison.Ordinal);
        Assert.Contains("BUG CHECK 0x0000001E", kernel.Process.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(kernel.Directory.SocketPath), "the halted kernel left its socket behind");
    }
}
