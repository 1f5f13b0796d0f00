using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client INSTANCE hold DEVICE COUNT   opens COUNT handles (CreateFile), prints "ready", waits
/// test-client INSTANCE park DEVICE         opens DEVICE, prints "ready", blocks in a parked IOCTL
/// test-client ring ...                      a ring producer or consumer in another process (<see cref="RingMode"/>)
/// test-client channel ...                   the user side of a shared channel (<see cref="ChannelMode"/>)
/// test-client victim ...                    random operations of every kind, to be killed at a random point (<see cref="VictimMode"/>)
/// It never waits longer than two minutes: a test that forgets it cannot leave it behind.
/// </summary>
public static unsafe class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ring") return RingMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "section") return SectionMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "channel") return ChannelMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "port") return PortMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "file") return FileMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "win32k") return Win32kMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "security") return SecurityMode.Run(args[1..]);
        if (args.Length > 0 && args[0] == "victim") return VictimMode.Run(args[1..]);
        if (args.Length < 3) return Usage();
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        var device = args[2];
        switch (args[1])
        {
            case "hold":
            {
                var count = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1;
                for (var i = 0; i < count; i++)
                {
                    var handle = Kernel32.CreateFile(device, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                    if (handle == Kernel32.INVALID_HANDLE_VALUE)
                    {
                        Console.WriteLine($"error {Kernel32.GetLastError()}");
                        return 1;
                    }
                }
                Console.WriteLine("ready");
                Thread.Sleep(TimeSpan.FromMinutes(2));
                return 0;
            }
            case "park":
            {
                var handle = Kernel32.CreateFile(device, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                if (handle == Kernel32.INVALID_HANDLE_VALUE)
                {
                    Console.WriteLine($"error {Kernel32.GetLastError()}");
                    return 1;
                }
                var request = new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0);
                var input = MemoryMarshal.AsBytes(new ReadOnlySpan<ReturnRequest>(ref request)).ToArray();
                var worker = new Thread(() =>
                {
                    using var threadScope = GateClient.Use(gate);
                    uint returned = 0;
                    Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, new byte[16], ref returned);
                    Console.WriteLine($"completed {Kernel32.GetLastError()}");
                }) { IsBackground = true };
                worker.Start();
                Thread.Sleep(200);
                Console.WriteLine("ready");
                worker.Join(TimeSpan.FromMinutes(2));
                return 0;
            }
            default:
                return Usage();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client INSTANCE hold DEVICE [COUNT] | test-client INSTANCE park DEVICE");
        return 2;
    }
}
