using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Drivers.Telemetry;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// A shared channel as a driver uses it: \\.\Telemetry makes one, maps it into this process and
/// streams records from a kernel thread flat out; this process consumes them (copying each out and
/// checking its number, as the bare ring's consumer does) for the run's duration, after a warm-up. Compared with the bare two-process ring (the same ring, no
/// channel, no kernel): the ratio is what a driver's channel costs.
/// </summary>
internal static class DriverChannelMeasurements
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static BenchResult Small(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () => Measure(context, 64));

    public static BenchResult Large(BenchContext context) =>
        KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () => Measure(context, 64 * 1024));

    private static BenchResult Measure(BenchContext context, int recordBytes)
    {
        using var device = DeviceFile.Open(TelemetryInterface.Win32Name, gate: context.Gate);
        var start = new TelemetryStart(recordBytes, 1 << 20, 0, ChannelOverflowPolicy.Block, 0);
        var reply = new byte[Marshal.SizeOf<TelemetryChannel>()];
        device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START.Value, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), reply);
        var channel = SharedChannel.Attach((nint)MemoryMarshal.Read<TelemetryChannel>(reply).Address, context.Gate);
        var copy = GC.AllocateUninitializedArray<byte>(channel.Receiver.MaxRecordLength, pinned: true);
        long expected = 0;
        var warmUp = Consume(channel, copy, ref expected, Stopwatch.GetTimestamp() + Ticks(context.Settings.WarmUp));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var began = Stopwatch.GetTimestamp();
        var count = Consume(channel, copy, ref expected, began + Ticks(context.Settings.Duration));
        var elapsed = Stopwatch.GetElapsedTime(began);
        var clientBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Math.Max(1, count);
        device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_STOP.Value, [], new byte[Marshal.SizeOf<TelemetryStats>()]);
        if (count == 0) throw new BenchFailedException($"the driver's channel moved no record in {elapsed.TotalSeconds:0.0} s");
        return BenchResult.Throughput(count / elapsed.TotalSeconds, (int)Math.Min(int.MaxValue, count)) with
        {
            Operations = warmUp + count,
            ClientBytesPerOperation = clientBytes,
        };
    }

    /// <summary>
    /// Takes records until <paramref name="deadline"/> as the bare ring's consumer does: each copied
    /// out once and its sequence checked, the clock read every 64 records; how many.
    /// </summary>
    private static long Consume(SharedChannel channel, byte[] copy, ref long expected, long deadline)
    {
        long count = 0;
        var receiver = channel.Receiver;
        while (true)
        {
            var status = receiver.Receive(copy, out var length, Patience);
            if (status != RingStatus.Ok) throw new BenchFailedException($"the driver's channel said {status} after record {expected - 1}");
            var head = MemoryMarshal.Read<TelemetryRecord>(copy.AsSpan(0, length));
            if (head.Sequence != expected) throw new BenchFailedException($"record {head.Sequence} of the driver's stream came where {expected} was due");
            expected++;
            if (++count % 64 == 0 && Stopwatch.GetTimestamp() >= deadline) return count;
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
