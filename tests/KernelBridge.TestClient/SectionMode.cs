using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client section INSTANCE create NAME SIZE TEXT   creates a named section, writes TEXT at 0, prints "ready", holds
/// test-client section INSTANCE write NAME TEXT         opens NAME, writes TEXT at 0, prints "ready", holds (view mapped)
/// test-client section INSTANCE read NAME               opens NAME read-only, prints "read TEXT", exits
/// test-client section INSTANCE fault NAME              maps NAME read-only, prints "mapped", then writes to it (and dies)
/// test-client section INSTANCE driverpages DEVICE SIZE  has the test driver map SIZE bytes of its pages into it, prints "ready", holds
/// test-client section INSTANCE telemetry DEVICE        reads 100 records of an endless telemetry stream, prints "ready", stops reading
/// </summary>
internal static unsafe class SectionMode
{
    public static int Run(string[] args)
    {
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        var name = args[2];
        switch (args[1])
        {
            case "create":
            {
                var size = uint.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
                var mapping = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, PageProtection.PAGE_READWRITE, 0, size, name);
                if (mapping == 0) return Error();
                return WriteAndHold(mapping, args[4]);
            }
            case "write":
            {
                var mapping = Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_WRITE, false, name);
                if (mapping == 0) return Error();
                return WriteAndHold(mapping, args[3]);
            }
            case "read":
            {
                var mapping = Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name);
                if (mapping == 0) return Error();
                var view = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 0, 0);
                if (view == 0) return Error();
                var bytes = new ReadOnlySpan<byte>((void*)view, 4096);
                var end = bytes.IndexOf((byte)0);
                Console.WriteLine($"read {Encoding.UTF8.GetString(bytes[..(end < 0 ? bytes.Length : end)])}");
                return 0;
            }
            case "driverpages":
            {
                var device = Kernel32.CreateFile(name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                if (device == Kernel32.INVALID_HANDLE_VALUE) return Error();
                var size = BitConverter.GetBytes(long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
                var output = new byte[8];
                uint returned = 0;
                if (!Kernel32.DeviceIoControl(device, KernelBridge.TestDriver.KbTestInterface.IOCTL_KBTEST_MAP_PAGES.Value, size, output, ref returned))
                    return Error();
                var address = BitConverter.ToUInt64(output);
                ((byte*)address)[0] = 9;
                Console.WriteLine("ready");
                Thread.Sleep(TimeSpan.FromMinutes(2));
                return 0;
            }
            case "telemetry":
            {
                // name is the device here: start an endless stream, read a little, then stop reading (the driver blocks).
                var device = Kernel32.CreateFile(name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                if (device == Kernel32.INVALID_HANDLE_VALUE) return Error();
                var start = new KernelBridge.Drivers.Telemetry.TelemetryStart(64, 1 << 16, 0, KernelBridge.Abi.Channels.ChannelOverflowPolicy.Block, 0);
                var output = new byte[16];
                uint returned = 0;
                if (!Kernel32.DeviceIoControl(device, KernelBridge.Drivers.Telemetry.TelemetryInterface.IOCTL_TELEMETRY_START.Value,
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<KernelBridge.Drivers.Telemetry.TelemetryStart>(ref start)), output, ref returned))
                    return Error();
                var channel = KernelBridge.Client.SharedChannel.Attach((nint)BitConverter.ToUInt64(output), gate);
                for (var i = 0; i < 100; i++)
                {
                    if (channel.Receiver.Receive(out _, TimeSpan.FromSeconds(10)) != KernelBridge.Abi.Rings.RingStatus.Ok) return Error();
                    channel.Receiver.Release();
                }
                Console.WriteLine("ready");
                Thread.Sleep(TimeSpan.FromMinutes(2));
                return 0;
            }
            case "fault":
            {
                var mapping = Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name);
                if (mapping == 0) return Error();
                var view = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 0, 0);
                if (view == 0) return Error();
                Console.WriteLine("mapped");
                Console.Out.Flush();
                *(byte*)view = 1;
                Console.WriteLine("wrote to a read-only view");
                return 0;
            }
            default:
                return 2;
        }
    }

    private static int WriteAndHold(nint mapping, string text)
    {
        var view = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_WRITE, 0, 0, 0);
        if (view == 0) return Error();
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.CopyTo(new Span<byte>((void*)view, bytes.Length + 1));
        ((byte*)view)[bytes.Length] = 0;
        Console.WriteLine("ready");
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return 0;
    }

    private static int Error()
    {
        Console.WriteLine($"error {Kernel32.GetLastError()}");
        return 1;
    }
}
