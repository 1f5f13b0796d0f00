using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelBridge.Client;
using KernelBridge.Drivers.EventSample;

// The user half of Windows-driver-samples' general/event sample (eventtest.c), against KernelBridge:
//   EventSample irp [seconds] [count]     the IOCTL pends until the driver's timer completes it
//   EventSample event [seconds] [count]   the driver signals an event this program created
//   EventSample stream [seconds] [count]  the same inverted call as an IAsyncEnumerable
var mode = args.Length > 0 ? args[0] : "irp";
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1;
var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var dueTime = EventSampleInterface.RelativeDueTime(TimeSpan.FromSeconds(seconds));
var code = EventSampleInterface.IOCTL_REGISTER_EVENT;

switch (mode)
{
    case "irp":
    {
        using var device = DeviceFile.Open(EventSampleInterface.Win32Name);
        for (var i = 1; i <= count; i++)
        {
            var watch = Stopwatch.StartNew();
            var request = new RegisterEvent(NotifyType.IrpBased, 0, dueTime);
            device.IoControl(code, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), []);
            Console.WriteLine($"{i}: the driver completed the pended IOCTL after {watch.ElapsedMilliseconds} ms");
        }
        break;
    }
    case "event":
    {
        using var device = DeviceFile.Open(EventSampleInterface.Win32Name);
        using var signal = KernelEvent.Create(manualReset: true, gate: device.Handle.Gate);
        for (var i = 1; i <= count; i++)
        {
            var watch = Stopwatch.StartNew();
            var request = new RegisterEvent(NotifyType.EventBased, signal.Handle.Value, dueTime);
            device.IoControl(code, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), []);
            if (!signal.Wait(TimeSpan.FromSeconds(seconds + 10))) throw new TimeoutException("the driver never signalled the event");
            signal.Reset();
            Console.WriteLine($"{i}: the driver signalled the event after {watch.ElapsedMilliseconds} ms");
        }
        break;
    }
    case "stream":
    {
        using var device = DeviceFile.OpenOverlapped(EventSampleInterface.Win32Name);
        var request = new RegisterEvent(NotifyType.IrpBased, 0, dueTime);
        var input = MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds * count + 10));
        var received = 0;
        var watch = Stopwatch.StartNew();
        await foreach (var _ in device.NotificationsAsync(code.Value, input, 0, stop.Token))
        {
            Console.WriteLine($"{++received}: notification at {watch.ElapsedMilliseconds} ms");
            if (received == count) break;
        }
        break;
    }
    default:
        Console.Error.WriteLine("usage: EventSample irp|event|stream [seconds] [count]");
        return 2;
}
return 0;
