using System.Collections.Concurrent;
using System.ComponentModel;
using KernelBridge.Abi;
using KernelBridge.Client.Win32;

namespace KernelBridge.Client;

/// <summary>
/// A message-only window (CreateWindowEx with HWND_MESSAGE) with a handler instead of a window
/// procedure. It belongs to the thread that creates it: the handler runs there, while that thread
/// is in a message call (<see cref="MessageQueue.Run"/>, <see cref="MessageQueue.Pump(TimeSpan)"/>,
/// or its own <see cref="Send"/>). Other threads and processes find it by name and send or post to
/// its <see cref="Handle"/>. Failures throw <see cref="Win32Exception"/> with the Win32 error.
/// </summary>
public sealed class MessageWindow : IDisposable
{
    /// <summary>Handles one message; its result is SendMessage's.</summary>
    public delegate nint Handler(uint message, nint wParam, nint lParam);

    private static readonly ConcurrentDictionary<nint, MessageWindow> Live = new();
    private static readonly Lazy<string> ClassName = new(RegisterClass);
    private readonly Handler _handler;

    private MessageWindow(Handler handler) => _handler = handler;

    public nint Handle { get; private set; }

    /// <summary>The thread that owns it (and runs its handler).</summary>
    public uint ThreadId { get; private set; }

    /// <summary>Makes a message-only window owned by the calling thread, named <paramref name="name"/> (null: unnamed).</summary>
    public static MessageWindow Create(string? name, Handler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var window = new MessageWindow(handler);
        // The handle is known only once CreateWindowEx returns, but WM_NCCREATE comes before: the procedure lets those through.
        var hwnd = User32.CreateWindowEx(0, ClassName.Value, name, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0);
        if (hwnd == 0) throw Failure("CreateWindowEx");
        window.Handle = hwnd;
        window.ThreadId = Kernel32.GetCurrentThreadId();
        Live[hwnd] = window;
        return window;
    }

    /// <summary>The first message-only window of any process named <paramref name="name"/> (in any case), or 0.</summary>
    public static nint Find(string name) => User32.FindWindowEx(User32.HWND_MESSAGE, 0, null, name);

    /// <summary>SendMessage with a timeout: the handler's result. <see cref="TimeoutException"/> if the time runs out.</summary>
    public static nint Send(nint hwnd, uint message, nint wParam, nint lParam, TimeSpan timeout)
    {
        var milliseconds = timeout == Timeout.InfiniteTimeSpan ? Kernel32.INFINITE : (uint)Math.Clamp(timeout.TotalMilliseconds, 0, Kernel32.INFINITE - 1);
        if (milliseconds == Kernel32.INFINITE)
        {
            Kernel32.SetLastError(Win32Error.ERROR_SUCCESS);
            var result = User32.SendMessage(hwnd, message, wParam, lParam);
            if (result == 0 && Kernel32.GetLastError() != 0) throw Failure("SendMessage");
            return result;
        }
        if (User32.SendMessageTimeout(hwnd, message, wParam, lParam, User32.SMTO_NORMAL, milliseconds, out var answer) != 0) return answer;
        if (Kernel32.GetLastError() == (uint)Win32Error.ERROR_TIMEOUT) throw new TimeoutException($"the window 0x{hwnd:X} did not answer within {timeout}");
        throw Failure("SendMessageTimeout");
    }

    /// <summary>PostMessage: queued for the window's thread.</summary>
    public static void Post(nint hwnd, uint message, nint wParam, nint lParam)
    {
        if (!User32.PostMessage(hwnd, message, wParam, lParam)) throw Failure("PostMessage");
    }

    /// <summary>Destroys the window; only its own thread may.</summary>
    public void Dispose()
    {
        if (Handle == 0) return;
        if (!User32.DestroyWindow(Handle)) throw Failure("DestroyWindow");
        Live.TryRemove(Handle, out _);
        Handle = 0;
    }

    internal static Win32Exception Failure(string call)
    {
        var error = (Win32Error)Kernel32.GetLastError();
        return new Win32Exception((int)error, $"{call} failed: {StatusMapping.Name(error)}");
    }

    private static string RegisterClass()
    {
        var name = $"KernelBridge.MessageWindow.{Environment.ProcessId}";
        if (User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = Procedure, lpszClassName = name }) == 0)
            throw Failure("RegisterClassEx");
        return name;
    }

    private static nint Procedure(nint hwnd, uint message, nint wParam, nint lParam) =>
        Live.TryGetValue(hwnd, out var window) ? window._handler(message, wParam, lParam) : User32.DefWindowProc(hwnd, message, wParam, lParam);
}
