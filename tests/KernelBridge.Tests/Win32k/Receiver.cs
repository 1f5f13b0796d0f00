using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// A thread with a message-only window whose procedure the test gives, pumping GetMessage and
/// DispatchMessage until WM_QUIT (or not pumping at all, for the hung and dying cases).
/// </summary>
internal sealed class Receiver : IDisposable
{
    private readonly UserTest.TestThread _thread;
    private readonly ManualResetEventSlim _ready = new();
    private readonly ManualResetEventSlim _release = new();

    public nint Hwnd { get; private set; }
    public uint ThreadId { get; private set; }

    /// <summary>With <paramref name="pump"/> false the thread makes its window, then only waits to be released.</summary>
    public Receiver(WNDPROC procedure, bool pump = true, string? name = null)
    {
        _thread = UserTest.Start(() =>
        {
            ThreadId = Kernel32.GetCurrentThreadId();
            Hwnd = UserTest.MessageWindow(UserTest.RegisterClass(procedure), name);
            _ready.Set();
            if (!pump)
            {
                _release.Wait(UserTest.Timeout);
                return;
            }
            while (User32.GetMessage(out var msg, 0, 0, 0) > 0) User32.DispatchMessage(msg);
            User32.DestroyWindow(Hwnd);
        });
        Assert.True(_ready.Wait(UserTest.Timeout), "the receiver thread did not make its window");
    }

    /// <summary>Lets a non-pumping receiver's thread end (its queue and window go once the kernel notices).</summary>
    public void Release() => _release.Set();

    public void Dispose()
    {
        User32.PostThreadMessage(ThreadId, User32.WM_QUIT, 0, 0);
        _release.Set();
        _thread.Join();
        _ready.Dispose();
        _release.Dispose();
    }
}
