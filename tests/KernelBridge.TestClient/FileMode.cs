using System.Globalization;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client file INSTANCE write PATH TEXT            CREATE_ALWAYS, writes TEXT (UTF-8), prints "written N"
/// test-client file INSTANCE read PATH                  OPEN_EXISTING, prints "data HEX" of what it read
/// test-client file INSTANCE open PATH ACCESS SHARE     CreateFile with that access and share mode, prints "opened" or "error N"
/// Any failure prints "error N" (the last error) and exits 1.
/// </summary>
internal static class FileMode
{
    public static int Run(string[] args)
    {
        if (args.Length < 3) return Usage();
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        var path = args[2];
        switch (args[1])
        {
            case "write" when args.Length >= 4:
            {
                var handle = Kernel32.CreateFile(path, AccessMask.GENERIC_WRITE, 7, 0, CreationDisposition.CREATE_ALWAYS, 0, 0);
                if (handle == Kernel32.INVALID_HANDLE_VALUE) return Error();
                var ok = Kernel32.WriteFile(handle, System.Text.Encoding.UTF8.GetBytes(args[3]), out var written);
                Kernel32.CloseHandle(handle);
                if (!ok) return Error();
                Console.WriteLine($"written {written}");
                return 0;
            }
            case "read":
            {
                var handle = Kernel32.CreateFile(path, AccessMask.GENERIC_READ, 7, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                if (handle == Kernel32.INVALID_HANDLE_VALUE) return Error();
                var buffer = new byte[65536];
                var ok = Kernel32.ReadFile(handle, buffer, out var read);
                Kernel32.CloseHandle(handle);
                if (!ok) return Error();
                Console.WriteLine($"data {Convert.ToHexString(buffer, 0, (int)read)}");
                return 0;
            }
            case "open" when args.Length >= 5:
            {
                var access = uint.Parse(args[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var share = uint.Parse(args[4], CultureInfo.InvariantCulture);
                var handle = Kernel32.CreateFile(path, access, share, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
                if (handle == Kernel32.INVALID_HANDLE_VALUE) return Error();
                Kernel32.CloseHandle(handle);
                Console.WriteLine("opened");
                return 0;
            }
            default:
                return Usage();
        }
    }

    private static int Error()
    {
        Console.WriteLine($"error {Kernel32.GetLastError()}");
        return 1;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client file INSTANCE write PATH TEXT | read PATH | open PATH ACCESS(hex) SHARE");
        return 2;
    }
}
