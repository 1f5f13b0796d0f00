using KernelBridge.Client.Win32;

namespace KernelBridge.Client;

/// <summary>
/// The calling thread's message queue, idiomatically: the message loop, pumping with a timeout,
/// quitting, posting to a thread. Messages sent to the thread's windows run inside each of these.
/// </summary>
public static class MessageQueue
{
    /// <summary>The message loop: GetMessage and DispatchMessage until WM_QUIT; its exit code.</summary>
    public static int Run()
    {
        while (true)
        {
            var got = User32.GetMessage(out var msg, 0, 0, 0);
            if (got == 0) return (int)msg.wParam;
            if (got < 0) throw MessageWindow.Failure("GetMessage");
            User32.DispatchMessage(msg);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for input, then dispatches every posted message there
    /// is; how many. A WM_QUIT found is put back (PostQuitMessage) for <see cref="Run"/> to see.
    /// </summary>
    public static unsafe int Pump(TimeSpan timeout)
    {
        var milliseconds = timeout == Timeout.InfiniteTimeSpan ? Kernel32.INFINITE : (uint)Math.Clamp(timeout.TotalMilliseconds, 0, Kernel32.INFINITE - 1);
        if (User32.MsgWaitForMultipleObjectsEx(0, null, milliseconds, User32.QS_ALLINPUT, User32.MWMO_INPUTAVAILABLE) == Kernel32.WAIT_FAILED)
            throw MessageWindow.Failure("MsgWaitForMultipleObjectsEx");
        var dispatched = 0;
        while (User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_REMOVE))
        {
            if (msg.message == User32.WM_QUIT)
            {
                User32.PostQuitMessage((int)msg.wParam);
                break;
            }
            User32.DispatchMessage(msg);
            dispatched++;
        }
        return dispatched;
    }

    /// <summary>Ends the calling thread's <see cref="Run"/> once the messages before it are handled.</summary>
    public static void Quit(int exitCode = 0) => User32.PostQuitMessage(exitCode);

    /// <summary>PostThreadMessage; the thread must have a queue (it made one with any message call).</summary>
    public static void Post(uint threadId, uint message, nint wParam, nint lParam)
    {
        if (!User32.PostThreadMessage(threadId, message, wParam, lParam)) throw MessageWindow.Failure("PostThreadMessage");
    }
}
