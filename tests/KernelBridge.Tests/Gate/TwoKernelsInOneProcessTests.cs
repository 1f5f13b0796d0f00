using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.Null;
using KernelBridge.Kernel;
using KernelBridge.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Nothing in the kernel is process-wide: two kernels in one process each boot their own drivers
/// (DriverEntry creates devices and links through the Ddk), keep their own object counts, and
/// serve their own clients (regression: the second kernel could not start — "a kernel is already
/// installed in this process" — and object types counted for both).
/// </summary>
public sealed class TwoKernelsInOneProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly BuiltInDriver[] BuiltIns =
    [
        new("Null", NullDriver.DriverEntry),
        new("Echo", EchoDriver.DriverEntry),
        new("Event_Sample", EventSampleDriver.DriverEntry),
    ];

    [Fact]
    public async Task Two_kernels_in_one_process_each_load_their_drivers_and_serve_their_own_clients()
    {
        string[] instances = [KernelProcess.NewInstanceName("twin"), KernelProcess.NewInstanceName("twin")];
        using var stop = new CancellationTokenSource();
        var kernels = instances.Select(instance => Task.Run(() => KernelHost.RunAsync(
            new KernelOptions { Instance = instance, Persistent = true, BuiltInDrivers = BuiltIns },
            NullLoggerFactory.Instance, stop.Token))).ToArray();
        var gates = new List<GateClient>();
        try
        {
            foreach (var instance in instances) gates.Add(await ConnectAsync(instance, kernels));
            var openFiles = new List<DeviceFile>();
            try
            {
                // Two echo files on the first kernel, one on the second: each kernel counts only its own.
                openFiles.Add(DeviceFile.Open(@"\\.\Echo", gate: gates[0]));
                openFiles.Add(DeviceFile.Open(@"\\.\Echo", gate: gates[0]));
                openFiles.Add(DeviceFile.Open(@"\\.\Echo", gate: gates[1]));
                foreach (var file in openFiles)
                {
                    var output = new byte[5];
                    var result = file.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "hello"u8, output);
                    Assert.Equal(5, result.Information);
                    Assert.Equal("hello"u8.ToArray(), output);
                }
                Assert.Equal(2, FileCount(gates[0]));
                Assert.Equal(1, FileCount(gates[1]));
                Assert.All(gates, gate => Assert.Contains(KernelControl.QueryDrivers(gate), d => d.Name == @"\Driver\Echo"));
            }
            finally
            {
                foreach (var file in openFiles) file.Dispose();
            }
        }
        finally
        {
            foreach (var gate in gates) gate.Dispose();
            await stop.CancelAsync();
            await Task.WhenAll(kernels).WaitAsync(Patience);
        }
        Assert.All(kernels, kernel => Assert.Equal(KernelExit.Stopped, kernel.Result));
    }

    private static int FileCount(GateClient gate) => KernelControl.QueryState(gate).Types.Single(t => t.Name == "File").Objects;

    /// <summary>Connects once the kernel listens (bounded); a kernel that died first fails the test with its error.</summary>
    private static async Task<GateClient> ConnectAsync(string instance, Task<KernelExit>[] kernels)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            foreach (var kernel in kernels)
                if (kernel.IsCompleted) await kernel;
            try
            {
                return GateClient.Connect(instance, autoStart: false);
            }
            catch (KernelUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
