using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests;

[Collection(KernelCollection.Name)]
public sealed class SmokeTests(KernelFixture fixture)
{
    [Fact]
    public void Echo_buffered_round_trip_through_the_kernel_process()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        var output = new byte[32];
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, Encoding.ASCII.GetBytes("ping"), output);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal(4, result.Information);
        Assert.Equal("ping", Encoding.ASCII.GetString(output, 0, 4));
    }

    [Fact]
    public void Test_driver_counts_one_create_per_open()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        Assert.Equal(1, KbTest.Counters(tag).Creates);
        Assert.True(KernelBridge.Client.Win32.Kernel32.CloseHandle(handle));
        var counters = KbTest.Counters(tag);
        Assert.Equal(1, counters.Cleanups);
        Assert.Equal(1, counters.Closes);
    }
}
