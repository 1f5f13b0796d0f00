using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>A driver that unloads closes its ports: the user's pending FilterGetMessage fails, the name goes, nothing is left.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortUnloadTests(KernelFixture fixture)
{
    private const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void Unloading_the_driver_fails_the_pending_FilterGetMessage_and_removes_the_port()
    {
        var gate = fixture.Gate;
        var service = "KbPorts" + Guid.NewGuid().ToString("N")[..8];
        var baseline = KernelControl.QueryState(gate);
        using (GateClient.Use(gate)) Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtLoadDriver(ServicesKey + service, KernelProcess.TestDriverPath));
        var unloaded = false;
        try
        {
            var port = PortTestDriver.Create(maxConnections: 2, service: service);
            using var user = PortUser.Connect(port.Name);
            var getting = Task.Run(() => user.TryGet(timeout: TimeSpan.FromSeconds(10)));
            Thread.Sleep(100);
            using (GateClient.Use(gate)) Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnloadDriver(ServicesKey + service));
            unloaded = true;
            port.Forget();
            Assert.Equal($"0x{FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_INVALID_HANDLE):X8}", $"0x{PortTestDriver.Ended(getting)!.HResult:X8}");
            Assert.Equal(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_FILE_NOT_FOUND), PortUser.TryConnect(port.Name, null, out _));
            user.Dispose();
            var after = KernelCounts.WaitFor(gate, s => s.ObjectsOf("FilterCommunicationPort") == baseline.ObjectsOf("FilterCommunicationPort")
                && s.ObjectsOf("FilterConnectionPort") == baseline.ObjectsOf("FilterConnectionPort"), TimeSpan.FromSeconds(10));
            Assert.Equal(baseline.ObjectsOf("FilterCommunicationPort"), after.ObjectsOf("FilterCommunicationPort"));
            Assert.Equal(baseline.ObjectsOf("FilterConnectionPort"), after.ObjectsOf("FilterConnectionPort"));
        }
        finally
        {
            if (!unloaded)
                using (GateClient.Use(gate)) Ntdll.NtUnloadDriver(ServicesKey + service);
        }
    }
}
