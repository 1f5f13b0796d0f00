using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// A message-only window in the test process, on a thread of its own that pumps until disposed:
/// victims SendMessage to it (cross-process) and are killed mid-send. WM_USER+1 answers wParam + lParam
/// after a moment's work, so that sends are caught in flight.
/// </summary>
internal sealed class TestWindow : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _created = new();
    private volatile bool _stop;
    private Exception? _failure;

    private readonly WNDPROC _procedure;

    public TestWindow(GateClient gate)
    {
        _procedure = Answer;
        _thread = new Thread(() => Pump(gate)) { IsBackground = true, Name = "kill loop window" };
        _thread.Start();
        Assert.True(_created.Wait(TimeSpan.FromSeconds(30)), "the test window was not created");
        if (_failure is not null) throw _failure;
    }

    public nint Handle { get; private set; }

    /// <summary>Messages answered, and the pump's failures (none expected while victims die).</summary>
    public long Answered => Interlocked.Read(ref _answered);
    public Exception? Failure => _failure;
    private long _answered;

    private nint Answer(nint hwnd, uint message, nint wParam, nint lParam)
    {
        if (message != User32.WM_USER + 1) return User32.DefWindowProc(hwnd, message, wParam, lParam);
        Thread.SpinWait(2000);
        Interlocked.Increment(ref _answered);
        return wParam + lParam;
    }

    private void Pump(GateClient gate)
    {
        using var scope = GateClient.Use(gate);
        try
        {
            Handle = OwnWindow.Create(_procedure);
        }
        catch (Exception e)
        {
            _failure = e;
            _created.Set();
            return;
        }
        _created.Set();
        try
        {
            while (!_stop) MessageQueue.Pump(TimeSpan.FromMilliseconds(50));
            User32.DestroyWindow(Handle);
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(10));
        _created.Dispose();
    }
}
