using System.Globalization;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.TestClient;

/// <summary>
/// The other process of the message tests:
/// test-client win32k INSTANCE server NAME    a message-only window of class KbTestServer named NAME; prints "ready HWND TID", pumps
/// test-client win32k INSTANCE hang NAME      the same window, prints "ready HWND TID", then never asks for a message
/// test-client win32k INSTANCE regmsg NAME    prints "message VALUE" for RegisterWindowMessage(NAME)
/// test-client win32k INSTANCE send HWND      prints "sending", then SendMessage(HWND, WM_USER + 9) and prints "sent RESULT ERROR"
/// The server's window procedure (<see cref="ServerProcedure"/>) answers the messages the tests send.
/// Nothing here lives longer than two minutes.
/// </summary>
internal static unsafe class Win32kMode
{
    public const string ClassName = "KbTestServer";
    private const uint WM_USER = User32.WM_USER;

    public static int Run(string[] args)
    {
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        using var watchdog = new Timer(_ => Environment.Exit(0), null, TimeSpan.FromMinutes(2), Timeout.InfiniteTimeSpan);
        var name = args[2];
        switch (args[1])
        {
            case "server":
            case "hang":
            {
                var atom = User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = ServerProcedure, lpszClassName = ClassName });
                if (atom == 0) return Error("RegisterClassEx");
                var hwnd = User32.CreateWindowEx(0, ClassName, name, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0);
                if (hwnd == 0) return Error("CreateWindowEx");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready {hwnd} {Kernel32.GetCurrentThreadId()}"));
                if (args[1] == "hang")
                {
                    Thread.Sleep(TimeSpan.FromMinutes(2));
                    return 0;
                }
                while (User32.GetMessage(out var msg, 0, 0, 0) > 0) User32.DispatchMessage(msg);
                return 0;
            }
            case "send":
            {
                Console.WriteLine("sending");
                var result = User32.SendMessage(nint.Parse(name, CultureInfo.InvariantCulture), WM_USER + 9, 0, 0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent {result} {Kernel32.GetLastError()}"));
                return 0;
            }
            case "regmsg":
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"message {User32.RegisterWindowMessage(name)}"));
                return 0;
            default:
                return 2;
        }
    }

    /// <summary>
    /// WM_USER: wParam + lParam. WM_USER+1: SendMessage(wParam, WM_USER+2, lParam) + 1 (the nested send back).
    /// WM_USER+3: the process exits inside the call. WM_USER+4: destroys its window. WM_USER+5: sleeps lParam ms, then 5.
    /// WM_COPYDATA: sum of the bytes + cbData * 10^6 + dwData * 10^12.
    /// </summary>
    public static nint ServerProcedure(nint hwnd, uint msg, nint wParam, nint lParam)
    {
        switch (msg)
        {
            case WM_USER:
                return wParam + lParam;
            case WM_USER + 1:
                return User32.SendMessage(wParam, WM_USER + 2, lParam, 0) + 1;
            case WM_USER + 3:
                Console.Out.Flush();
                Environment.Exit(3);
                return 0;
            case WM_USER + 4:
                return User32.DestroyWindow(hwnd) ? 1 : 0;
            case WM_USER + 5:
                Thread.Sleep((int)lParam);
                return 5;
            case User32.WM_COPYDATA:
            {
                var data = (COPYDATASTRUCT*)lParam;
                long sum = 0;
                foreach (var b in new ReadOnlySpan<byte>((void*)data->lpData, (int)data->cbData)) sum += b;
                return (nint)(sum + data->cbData * 1_000_000L + data->dwData * 1_000_000_000_000L);
            }
            default:
                return User32.DefWindowProc(hwnd, msg, wParam, lParam);
        }
    }

    private static int Error(string call)
    {
        Console.WriteLine($"error {call} {Kernel32.GetLastError()}");
        return 1;
    }
}
