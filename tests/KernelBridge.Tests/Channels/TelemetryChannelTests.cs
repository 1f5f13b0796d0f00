using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Telemetry;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// Shared channels through the real kernel: the telemetry driver creates a channel, maps it into
/// the caller and streams records down it (or echoes what the caller sends up); blocking and
/// dropping when full; everything unmapped and freed when the file closes or its process dies; the
/// driver's shared section seen by two processes. The kernel is the class's own, so its counts are ours.
/// </summary>
public sealed unsafe class TelemetryChannelTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private KernelState State() => KernelControl.QueryState(fixture.Gate);

    private static nint Open()
    {
        var device = Kernel32.CreateFile(TelemetryInterface.Win32Name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0,
            CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, device);
        return device;
    }

    private static TOut Control<TIn, TOut>(nint device, CtlCode code, TIn input) where TIn : unmanaged where TOut : unmanaged
    {
        var output = new byte[sizeof(TOut)];
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(device, code.Value, MemoryMarshal.AsBytes(new ReadOnlySpan<TIn>(ref input)), output, ref returned),
            $"{code}: error {Kernel32.GetLastError()}");
        return MemoryMarshal.Read<TOut>(output);
    }

    private SharedChannel Start(nint device, TelemetryStart request) =>
        SharedChannel.Attach((nint)Control<TelemetryStart, TelemetryChannel>(device, TelemetryInterface.IOCTL_TELEMETRY_START, request).Address, fixture.Gate);

    [Theory]
    [InlineData(64, 20_000)]
    [InlineData(64 * 1024, 300)]
    public void The_driver_streams_every_record_in_order_across_many_wrap_arounds(int recordLength, int count)
    {
        using var scope = GateClient.Use(fixture.Gate);
        var device = Open();
        try
        {
            var channel = Start(device, new TelemetryStart(recordLength, 1 << 20, count, ChannelOverflowPolicy.Block, 0));
            for (long expected = 0; expected < count; expected++)
            {
                var status = channel.Receiver.Receive(out var record, Patience);
                Assert.Equal(RingStatus.Ok, status);
                Assert.Equal(recordLength, record.Length);
                var head = MemoryMarshal.Read<TelemetryRecord>(record);
                Assert.Equal(expected, head.Sequence);
                Assert.True(record[16..].IndexOfAnyExcept((byte)expected) < 0, $"record {expected} is not all {(byte)expected}");
                channel.Receiver.Release();
            }
            var stats = Control<long, TelemetryStats>(device, TelemetryInterface.IOCTL_TELEMETRY_STOP, 0);
            Assert.Equal(count, stats.Sent);
            Assert.Equal(0, stats.Dropped);
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    [Fact]
    public void With_the_drop_policy_a_full_channel_counts_exactly_what_it_lost()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var device = Open();
        try
        {
            var channel = Start(device, new TelemetryStart(256, 4096, 1000, ChannelOverflowPolicy.Drop, 0));
            // Nobody reads while the driver produces: wait until it has tried all 1000.
            TelemetryStats stats = default;
            Assert.True(KbTest.Eventually(() => channel.Receiver.Statistics.Records + channel.Receiver.Statistics.Dropped >= 1000, Patience));
            stats = Control<long, TelemetryStats>(device, TelemetryInterface.IOCTL_TELEMETRY_STOP, 0);
            Assert.Equal(1000, stats.Sent + stats.Dropped);
            Assert.True(stats.Dropped > 900, $"{stats.Dropped} dropped");
            Assert.Equal(stats.Dropped, channel.Receiver.Statistics.Dropped);
            var received = 0;
            while (channel.Receiver.TryReceive(out _) == RingStatus.Ok)
            {
                channel.Receiver.Release();
                received++;
            }
            Assert.Equal(stats.Sent, received);
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    [Fact]
    public void Records_sent_up_come_back_down_intact()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var device = Open();
        try
        {
            var channel = Start(device, new TelemetryStart(64, 1 << 16, -1, ChannelOverflowPolicy.Block, 0));
            var random = new Random(7);
            var buffer = new byte[channel.Receiver.MaxRecordLength];
            for (var i = 0; i < 500; i++)
            {
                var record = new byte[random.Next(1, 20_000)];
                random.NextBytes(record);
                Assert.Equal(RingStatus.Ok, channel.Sender.Send(record, Patience));
                Assert.Equal(RingStatus.Ok, channel.Receiver.Receive(buffer, out var length, Patience));
                Assert.True(buffer.AsSpan(0, length).SequenceEqual(record), $"record {i}");
            }
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    [Fact]
    public void Closing_the_file_stops_the_stream_and_unmaps_and_frees_the_channel()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var before = State();
        var device = Open();
        var channel = Start(device, new TelemetryStart(64, 1 << 16, 0, ChannelOverflowPolicy.Block, 0));
        Assert.Equal(RingStatus.Ok, channel.Receiver.Receive(out _, Patience));
        channel.Receiver.Release();
        Assert.True(Kernel32.CloseHandle(device));
        MemoryBasicInformation info;
        Kernel32.VirtualQuery(channel.Address, &info, (nuint)sizeof(MemoryBasicInformation));
        Assert.Equal(MemoryAttributes.MEM_FREE, info.State);
        var after = State();
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.SectionBytes, after.SectionBytes);
    }

    [Fact]
    public void The_drivers_shared_section_is_one_memory_for_two_processes_and_the_driver()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var before = State();
        var first = Open();
        var second = Open();
        try
        {
            var a = (long*)Control<long, ulong>(first, TelemetryInterface.IOCTL_TELEMETRY_MAP_SHARED, 0);
            var b = (long*)Control<long, ulong>(second, TelemetryInterface.IOCTL_TELEMETRY_MAP_SHARED, 0);
            Assert.NotEqual((nint)a, (nint)b);
            var beat = a[0];
            Assert.True(KbTest.Eventually(() => Volatile.Read(ref b[0]) > beat + 2, Patience), "the driver's heartbeat did not move");
            a[100] = 0x1234;
            Assert.Equal(0x1234, b[100]);
            using var section = Section.Open(TelemetryInterface.SharedSectionName, gate: fixture.Gate);
            using var view = section.MapView(protection: PageProtection.PAGE_READONLY);
            Assert.Equal(0x1234, view.Read<long>(800));
        }
        finally
        {
            Kernel32.CloseHandle(first);
            Kernel32.CloseHandle(second);
        }
        var after = State();
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(0, Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, TelemetryInterface.SharedSectionName));
    }

    [Fact]
    public void A_reader_killed_mid_stream_leaves_nothing_behind_and_the_driver_serves_on()
    {
        var before = State();
        using (var reader = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "section", fixture.Instance, "telemetry", TelemetryInterface.Win32Name))
        {
            Assert.True(reader.WaitForLine("ready", TimeSpan.FromSeconds(30)), reader.Output);
            reader.Kill();
        }
        var after = KernelCounts.WaitFor(fixture.Gate, s => s.Views == before.Views && s.ObjectsOf("Section") == before.ObjectsOf("Section"),
            TimeSpan.FromSeconds(30));
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.SectionBytes, after.SectionBytes);
        // The driver still streams to whoever asks.
        The_driver_streams_every_record_in_order_across_many_wrap_arounds(64, 100);
    }
}
