using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Drivers.Telemetry;

// The user half of the telemetry sample: the driver streams records over a shared channel mapped
// into this process; this program reads them in place (no system call per record) and reports the rate.
//   Telemetry [count] [record-bytes]   read count records (default 1,000,000 of 64 bytes)
//   Telemetry echo [count]             send records up and read each back down
var echo = args.Length > 0 && args[0] == "echo";
var numbers = echo ? args[1..] : args;
var count = numbers.Length > 0 ? long.Parse(numbers[0], CultureInfo.InvariantCulture) : 1_000_000;
var recordBytes = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 64;
var patience = TimeSpan.FromSeconds(10);

using var device = DeviceFile.Open(TelemetryInterface.Win32Name);
var start = new TelemetryStart(recordBytes, 4 << 20, echo ? -1 : count, ChannelOverflowPolicy.Block, 0);
var reply = new byte[Marshal.SizeOf<TelemetryChannel>()];
device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START.Value, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), reply);
var mapped = MemoryMarshal.Read<TelemetryChannel>(reply);
var channel = SharedChannel.Attach((nint)mapped.Address, device.Handle.Gate);
Console.WriteLine($"the driver mapped a {mapped.Length / 1024} KiB channel at 0x{mapped.Address:X}");

var watch = Stopwatch.StartNew();
long bytes = 0;
if (echo)
{
    var record = new byte[recordBytes];
    var back = new byte[channel.Receiver.MaxRecordLength];
    for (long i = 0; i < count; i++)
    {
        BitConverter.TryWriteBytes(record, i);
        if (channel.Sender.Send(record, patience) != RingStatus.Ok) throw new TimeoutException("the driver did not take a record");
        if (channel.Receiver.Receive(back, out var length, patience) != RingStatus.Ok) throw new TimeoutException("the driver did not echo a record");
        if (BitConverter.ToInt64(back, 0) != i) throw new InvalidDataException($"record {i} came back as {BitConverter.ToInt64(back, 0)}");
        bytes += length;
    }
}
else
{
    for (long expected = 0; expected < count; expected++)
    {
        if (channel.Receiver.Receive(out var record, patience) != RingStatus.Ok) throw new TimeoutException($"no record {expected} from the driver");
        var head = MemoryMarshal.Read<TelemetryRecord>(record);
        if (head.Sequence != expected) throw new InvalidDataException($"record {head.Sequence} came where {expected} was due");
        bytes += record.Length;
        channel.Receiver.Release();
    }
}
var seconds = watch.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{count:N0} {(echo ? "round trips" : "records")} of {recordBytes} bytes in {seconds * 1000:F0} ms: {count / seconds / 1e6:F2} M/s, {bytes / seconds / 1e9:F2} GB/s"));
