using System.Runtime.InteropServices;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Telemetry;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// Found by the kill loop: a live client descheduled (or SIGSTOPped) between reserving a record on
/// Telemetry's echo channel and committing it, for longer than the driver's 200 ms receive patience,
/// lost its echo stream for good (the driver's echo thread took "Stalled" for the end) and waited 30 s
/// for an echo that never came. A slow client is not a dead one: only its death ends the stream.
/// </summary>
public sealed class SlowChannelSenderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_record_held_reserved_longer_than_the_drivers_patience_is_still_echoed_once_committed()
    {
        var instance = KernelProcess.NewInstanceName("slow-sender");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        using var gate = kernel.Connect();
        using var telemetry = DeviceFile.Open(TelemetryInterface.Win32Name, gate: gate);
        var start = new TelemetryStart(64, 4096, -1, ChannelOverflowPolicy.Block, 0);
        var location = new byte[Marshal.SizeOf<TelemetryChannel>()];
        var result = telemetry.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), location);
        Assert.True(result.Status.IsSuccess, $"{result.Status}");
        var channel = SharedChannel.Attach((nint)MemoryMarshal.Read<TelemetryChannel>(location).Address, gate);

        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(RingStatus.Ok, channel.Sender.Reserve(64, Patience, out var reservation));
            reservation.Payload.Fill((byte)(round + 1));
            Thread.Sleep(700); // more than three times the driver's 200 ms patience
            reservation.Commit();
            Assert.Equal(RingStatus.Ok, channel.Receiver.Receive(out var record, Patience));
            Assert.Equal((byte)(round + 1), record[0]);
            channel.Receiver.Release();
        }
    }
}
