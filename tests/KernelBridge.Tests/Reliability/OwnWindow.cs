using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// A message-only window of a class registered on the calling thread's current connection.
/// (MessageWindow registers its class once per process, on whichever kernel came first; these tests
/// run kernels of their own, so each registers a class of its own there.)
/// </summary>
internal static class OwnWindow
{
    public static nint Create(WNDPROC procedure)
    {
        var className = "KbReliability" + Guid.NewGuid().ToString("N")[..12];
        if (User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = procedure, lpszClassName = className }) == 0)
            throw new InvalidOperationException($"RegisterClassEx failed: {Kernel32.GetLastError()}");
        var hwnd = User32.CreateWindowEx(0, className, null, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0);
        if (hwnd == 0) throw new InvalidOperationException($"CreateWindowEx failed: {Kernel32.GetLastError()}");
        return hwnd;
    }
}
