using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Drivers.PortSample;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>The built-in PortSample driver: its port takes one connection and its IOCTL sends over it.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortSampleTests(KernelFixture fixture)
{
    [Fact]
    public async Task The_sample_sends_with_replies_to_the_connected_service_and_takes_one_connection()
    {
        using var port = FilterPort.Connect(PortSampleInterface.PortName, gate: fixture.Gate);
        var second = Assert.Throws<NtStatusException>(() => FilterPort.Connect(PortSampleInterface.PortName, gate: fixture.Gate));
        Assert.Equal(NtStatus.STATUS_CONNECTION_COUNT_LIMIT, second.Status);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var replying = Task.Run(async () =>
        {
            var seen = new List<int>();
            await foreach (var message in port.GetMessagesAsync(64, cancel.Token))
            {
                seen.Add(message.Read<int>());
                await port.ReplyAsync(message, 0L);
                if (seen.Count == 20) break;
            }
            return seen;
        });
        using var sample = DeviceFile.OpenOverlapped(PortSampleInterface.Win32Name, gate: fixture.Gate);
        var run = new PortSampleRun(20, 16, 8, 4);
        var output = new byte[Marshal.SizeOf<PortSampleResult>()];
        await sample.IoControlAsync(PortSampleInterface.IOCTL_PORTSAMPLE_RUN, MemoryMarshal.AsBytes(new ReadOnlySpan<PortSampleRun>(ref run)).ToArray(), output,
            cancel.Token);
        var result = MemoryMarshal.Read<PortSampleResult>(output);
        Assert.Equal((20, 0), (result.Completed, result.Failed));
        Assert.True(result.ElapsedNanoseconds > 0);
        Assert.Equal(Enumerable.Range(0, 20), (await replying.WaitAsync(TimeSpan.FromSeconds(10))).Order());
    }

    [Fact]
    public void The_sample_refuses_to_run_with_nobody_connected()
    {
        using var sample = DeviceFile.Open(PortSampleInterface.Win32Name, gate: fixture.Gate);
        var run = new PortSampleRun(1, 4, -1, 1);
        var e = Assert.Throws<NtStatusException>(() =>
            sample.IoControl(PortSampleInterface.IOCTL_PORTSAMPLE_RUN, MemoryMarshal.AsBytes(new ReadOnlySpan<PortSampleRun>(ref run)),
                new byte[Marshal.SizeOf<PortSampleResult>()]));
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED, e.Status);
    }
}
