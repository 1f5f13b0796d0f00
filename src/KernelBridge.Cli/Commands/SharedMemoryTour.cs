using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Telemetry;

namespace KernelBridge.Cli.Commands;

/// <summary>The tour's third part, the third door: a section and its views, a buffer a driver maps into this process, and a shared channel's rate.</summary>
internal static unsafe class SharedMemoryTour
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static List<DemoStep> Run(GateClient gate)
    {
        using var scope = GateClient.Use(gate);
        return [Section(gate), DriverMappedBuffer(gate), Channel(gate, 200_000, 64), Channel(gate, 4_000, 64 * 1024)];
    }

    private static DemoStep Section(GateClient gate)
    {
        using var section = Client.Section.Create(64 * 1024, gate: gate);
        using var writable = section.MapView();
        using var readOnly = section.MapView(protection: PageProtection.PAGE_READONLY);
        var text = Encoding.ASCII.GetBytes("written through one view, read through another");
        text.CopyTo(writable.Span);
        var seen = readOnly.Span[..text.Length].ToArray();
        MemoryBasicInformation info;
        Kernel32.VirtualQuery(readOnly.Address, &info, (nuint)sizeof(MemoryBasicInformation));
        return new DemoStep("A section and two views", "CreateFileMapping(64 KiB) + MapViewOfFile(FILE_MAP_WRITE) + MapViewOfFile(FILE_MAP_READ)",
            NtStatus.STATUS_SUCCESS, seen.Length, seen,
            $"The kernel made a 64 KiB section (a sealed memfd) and chose two addresses in this process, 0x{writable.Address:X} and 0x{readOnly.Address:X}; "
            + "the client library mapped the section's memory at each before the call returned. Bytes written through the first view are read through "
            + $"the second: one memory, no copy. VirtualQuery on the second: MEM_MAPPED, protection 0x{info.Protect:X} (PAGE_READONLY) — a write there would fault.");
    }

    private static DemoStep DriverMappedBuffer(GateClient gate)
    {
        using var device = DeviceFile.Open(TelemetryInterface.Win32Name, gate: gate);
        var output = new byte[8];
        device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_MAP_SHARED.Value, [], output);
        var shared = (long*)BitConverter.ToUInt64(output);
        var first = Volatile.Read(ref shared[0]);
        Thread.Sleep(100);
        var second = Volatile.Read(ref shared[0]);
        return new DemoStep("A buffer a driver maps into this process", @"DeviceIoControl(\\.\Telemetry, IOCTL_TELEMETRY_MAP_SHARED)",
            NtStatus.STATUS_SUCCESS, 8, output,
            $"The driver created a named section with a kernel handle (ZwCreateSection), mapped it into kernel space and into this process "
            + $"(ZwMapViewOfSection), and returned the address 0x{(ulong)shared:X}. Its timer ticks a heartbeat there: {first} then {second} 100 ms later, "
            + "read by this process without a system call. Closing the file unmaps it (IRP_MJ_CLEANUP); so would this process dying.");
    }

    private static DemoStep Channel(GateClient gate, int count, int recordBytes)
    {
        using var device = DeviceFile.Open(TelemetryInterface.Win32Name, gate: gate);
        var start = new TelemetryStart(recordBytes, 4 << 20, count, ChannelOverflowPolicy.Block, 0);
        var reply = new byte[Marshal.SizeOf<TelemetryChannel>()];
        device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START.Value, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), reply);
        var mapped = MemoryMarshal.Read<TelemetryChannel>(reply);
        var channel = SharedChannel.Attach((nint)mapped.Address, gate);
        var watch = Stopwatch.StartNew();
        var received = 0;
        for (; received < count; received++)
        {
            if (channel.Receiver.Receive(out _, Patience) != RingStatus.Ok) break;
            channel.Receiver.Release();
        }
        var seconds = watch.Elapsed.TotalSeconds;
        var rate = string.Create(CultureInfo.InvariantCulture, $"{received / seconds / 1e6:F2} M records/s, {(double)received * recordBytes / seconds / 1e9:F2} GB/s");
        return new DemoStep($"A shared channel, {recordBytes:N0}-byte records", $@"IOCTL_TELEMETRY_START {{{count:N0} × {recordBytes:N0} B}}, then read the channel",
            received == count ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_IO_TIMEOUT, (long)received * recordBytes, [],
            $"The driver made a channel (two rings in one section), mapped it here and streamed {received:N0} records down it from a kernel thread: {rate}. "
            + "This process read each record in place and made no system call while records kept coming; a receiver with nothing to read sleeps on a futex.");
    }
}
