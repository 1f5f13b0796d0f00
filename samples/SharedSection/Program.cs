using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Client;
using KernelBridge.Drivers.Telemetry;

// A section shared by a driver and two user processes. The telemetry driver creates
// \BaseNamedObjects\TelemetryShared, maps it into every process that asks (and into kernel space,
// where it ticks a heartbeat every 10 ms):
//   SharedSection write TEXT   puts TEXT in the section and keeps it mapped for 30 s
//   SharedSection read         shows the heartbeat and the text, as another process sees them
//   SharedSection              does both: writes, then runs a second copy of itself to read
var mode = args.Length > 0 ? args[0] : "both";
const int TextOffset = 64;

using var device = DeviceFile.Open(TelemetryInterface.Win32Name);
var address = new byte[8];
device.IoControl(TelemetryInterface.IOCTL_TELEMETRY_MAP_SHARED.Value, [], address);
var shared = (nint)BitConverter.ToUInt64(address);
Console.WriteLine($"[{Environment.ProcessId}] the driver mapped its shared section at 0x{shared:X}");

switch (mode)
{
    case "write":
        Write(args.Length > 1 ? args[1] : "hello from another process");
        Console.WriteLine("written; holding the view for 30 s");
        Thread.Sleep(TimeSpan.FromSeconds(30));
        break;
    case "read":
        Read();
        break;
    default:
        Write($"hello from process {Environment.ProcessId}");
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(TelemetryInterface).Assembly.Location.Replace("KernelBridge.Drivers.dll", "SharedSection.dll", StringComparison.Ordinal));
        start.ArgumentList.Add("read");
        using (var reader = Process.Start(start)!)
        {
            if (!reader.WaitForExit(TimeSpan.FromSeconds(30))) reader.Kill();
        }
        break;
}

unsafe void Write(string text)
{
    var bytes = Encoding.UTF8.GetBytes(text + "\0");
    bytes.CopyTo(new Span<byte>((byte*)shared + TextOffset, bytes.Length));
    Console.WriteLine($"[{Environment.ProcessId}] wrote \"{text}\"");
}

unsafe void Read()
{
    var heartbeat = (long*)shared;
    var first = Volatile.Read(ref *heartbeat);
    Thread.Sleep(100);
    var text = new ReadOnlySpan<byte>((byte*)shared + TextOffset, 1024);
    var end = text.IndexOf((byte)0);
    Console.WriteLine($"[{Environment.ProcessId}] heartbeat {first} -> {Volatile.Read(ref *heartbeat)} in 100 ms; text: \"{Encoding.UTF8.GetString(text[..Math.Max(end, 0)])}\"");
}
