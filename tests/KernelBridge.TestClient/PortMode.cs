using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client port INSTANCE PORTNAME   connects to the communication port, prints "connected", takes one
/// message (FilterGetMessage) and prints "got ID", then holds without replying (to be killed).
/// </summary>
internal static class PortMode
{
    public static int Run(string[] args)
    {
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        var hr = FltLib.FilterConnectCommunicationPort(args[1], 0, default, 0, 0, out var port);
        if (hr != FltLib.S_OK)
        {
            Console.WriteLine($"error 0x{hr:X8}");
            return 1;
        }
        Console.WriteLine("connected");
        var buffer = new byte[256];
        hr = FltLib.FilterGetMessage(port, buffer);
        if (hr != FltLib.S_OK)
        {
            Console.WriteLine($"error 0x{hr:X8}");
            return 1;
        }
        Console.WriteLine($"got {BitConverter.ToUInt64(buffer, 8)}");
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return 0;
    }
}
