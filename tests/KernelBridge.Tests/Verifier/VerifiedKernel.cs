using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Diagnostics;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Verifier;

/// <summary>
/// A kernel of the test's own with the test driver booted as KbTest under the verifier (a fault
/// isolates the driver for good, so no two tests share one), its bug checks, and the checks every
/// fault test ends with: the other drivers and clients unharmed, nothing left behind.
/// </summary>
internal sealed class VerifiedKernel : IDisposable
{
    public const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";
    public const int CancelTimeoutMs = 500;

    private VerifiedKernel(KernelProcess kernel)
    {
        Kernel = kernel;
        Gate = kernel.Connect();
        Scope = GateClient.Use(Gate);
    }

    public KernelProcess Kernel { get; }
    public GateClient Gate { get; }
    private GateClient.ThreadScope Scope { get; }

    /// <summary>Starts a kernel that verifies every driver (or as <paramref name="verifier"/> says), with KbTest booted.</summary>
    public static VerifiedKernel Start(string purpose, params string[] verifier)
    {
        string[] options = ["--persistent", "--driver", KernelProcess.TestDriverPath, "--verifier-cancel-timeout", CancelTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. verifier.Length == 0 ? ["--verifier", "all"] : verifier];
        return new VerifiedKernel(KernelProcess.Start(KernelProcess.NewInstanceName(purpose), options));
    }

    public static nint Open(string path)
    {
        var handle = Kernel32.CreateFile(path, KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile({path}) failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static NtStatus Ioctl(nint handle, CtlCode code, byte[]? input = null, byte[]? output = null)
    {
        var iosb = default(IO_STATUS_BLOCK);
        return KbTest.Ioctl(handle, code, input, output ?? new byte[16], ref iosb);
    }

    public IReadOnlyList<BugCheckRecord> Records => BugChecks.Query(Gate).Records;

    /// <summary>Waits (bounded) for a record with <paramref name="code"/> and returns it.</summary>
    public BugCheckRecord WaitForRecord(uint code, TimeSpan? timeout = null)
    {
        BugCheckRecord? found = null;
        Assert.True(KbTest.Eventually(() => (found = Records.FirstOrDefault(r => r.Code == code)) is not null, timeout ?? TimeSpan.FromSeconds(10)),
            $"no bug check 0x{code:X8}; records: {string.Join("; ", Records.Select(r => $"0x{r.Code:X} {r.Driver} {r.Detail}"))}");
        return found!;
    }

    public bool Faulted(string driverName) => KernelControl.QueryDrivers(Gate).Single(d => d.Name == driverName).Faulted;

    public static void EchoWorks(GateClient gate)
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        var output = new byte[16];
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "alive"u8, output);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal("alive", Encoding.ASCII.GetString(output, 0, result.Information));
    }

    /// <summary>Echo answers this client and a new one; Echo is not faulted; the kernel runs on.</summary>
    public void OthersUnharmed()
    {
        Assert.False(Faulted(@"\Driver\Echo"));
        Assert.False(Faulted(@"\Driver\Null"));
        EchoWorks(Gate);
        using var another = Kernel.Connect();
        EchoWorks(another);
        Assert.False(Kernel.Process.Process.HasExited);
    }

    /// <summary>Handles back to <paramref name="baseline"/>'s count and no IRP in flight (bounded wait).</summary>
    public void NothingLeft(KernelState baseline)
    {
        KernelState now = baseline;
        Assert.True(KbTest.Eventually(() => (now = KernelControl.QueryState(Gate)).PendingIrps == 0 && now.Handles == baseline.Handles),
            $"left behind: {now.PendingIrps} IRPs in flight, {now.Handles} handles (baseline {baseline.Handles})");
    }

    public void Dispose()
    {
        Scope.Dispose();
        Gate.Dispose();
        Kernel.Dispose();
    }
}
