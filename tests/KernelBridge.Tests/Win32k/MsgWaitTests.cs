using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// MsgWaitForMultipleObjects(Ex) and WaitMessage: objects and queue input in one wait
/// (WAIT_OBJECT_0 + nCount for input), new input versus MWMO_INPUTAVAILABLE, MWMO_WAITALL,
/// MWMO_ALERTABLE, timeouts, and sent messages run while waiting (Microsoft's
/// MsgWaitForMultipleObjectsEx documentation; Wine user32/tests/msg.c test_MsgWaitForMultipleObjects).
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed unsafe class MsgWaitTests
{
    private const uint WM_USER = User32.WM_USER;

    [Fact]
    public void A_signalled_object_ends_the_wait_with_its_index() => UserTest.OnNewThread(() =>
    {
        var handles = stackalloc nint[2] { Kernel32.CreateEvent(0, true, false, null), Kernel32.CreateEvent(0, true, true, null) };
        Assert.Equal(1u, User32.MsgWaitForMultipleObjects(2, handles, false, 1_000, User32.QS_ALLINPUT));
        Kernel32.CloseHandle(handles[0]);
        Kernel32.CloseHandle(handles[1]);
    });

    [Fact]
    public void Input_ends_the_wait_with_WAIT_OBJECT_0_plus_nCount() => UserTest.OnNewThread(() =>
    {
        var handle = Kernel32.CreateEvent(0, true, false, null);
        UserTest.EnsureQueue();
        Assert.Equal(Kernel32.WAIT_TIMEOUT, User32.MsgWaitForMultipleObjects(1, &handle, false, 100, User32.QS_ALLINPUT));
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER, 0, 0));
        Assert.Equal(1u, User32.MsgWaitForMultipleObjects(1, &handle, false, 1_000, User32.QS_ALLINPUT));
        // Input outside the wake mask does not count.
        Assert.Equal(Kernel32.WAIT_TIMEOUT, User32.MsgWaitForMultipleObjects(1, &handle, false, 100, User32.QS_SENDMESSAGE));
        Kernel32.CloseHandle(handle);
    });

    [Fact]
    public void Input_seen_by_PeekMessage_is_no_longer_new_but_MWMO_INPUTAVAILABLE_still_sees_it() => UserTest.OnNewThread(() =>
    {
        UserTest.EnsureQueue();
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER, 0, 0));
        Assert.True(User32.PeekMessage(out _, 0, 0, 0, User32.PM_NOREMOVE));
        Assert.Equal(Kernel32.WAIT_TIMEOUT, User32.MsgWaitForMultipleObjectsEx(0, null, 100, User32.QS_ALLINPUT, 0));
        Assert.Equal(0u, User32.MsgWaitForMultipleObjectsEx(0, null, 1_000, User32.QS_ALLINPUT, User32.MWMO_INPUTAVAILABLE));
    });

    [Fact]
    public void A_post_from_another_thread_wakes_the_wait_and_WaitMessage()
    {
        using var scope = UserTest.Scope();
        using var ready = new ManualResetEventSlim();
        uint threadId = 0;
        var waiter = UserTest.Start(() =>
        {
            threadId = Kernel32.GetCurrentThreadId();
            UserTest.EnsureQueue();
            ready.Set();
            Assert.True(User32.WaitMessage());
            Assert.True(User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_REMOVE));
            Assert.Equal(WM_USER + 3, msg.message);
            Assert.Equal(0u, User32.MsgWaitForMultipleObjectsEx(0, null, 20_000, User32.QS_POSTMESSAGE, 0));
        });
        Assert.True(ready.Wait(UserTest.Timeout));
        UserTest.OnNewThread(() =>
        {
            Thread.Sleep(200);
            Assert.True(User32.PostThreadMessage(threadId, WM_USER + 3, 0, 0));
            Thread.Sleep(200);
            Assert.True(User32.PostThreadMessage(threadId, WM_USER + 4, 0, 0));
        });
        waiter.Join();
    }

    [Fact]
    public void MWMO_WAITALL_needs_every_object_and_input() => UserTest.OnNewThread(() =>
    {
        var handle = Kernel32.CreateEvent(0, true, true, null);
        UserTest.EnsureQueue();
        Assert.Equal(Kernel32.WAIT_TIMEOUT, User32.MsgWaitForMultipleObjectsEx(1, &handle, 100, User32.QS_ALLINPUT, User32.MWMO_WAITALL));
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER, 0, 0));
        Assert.Equal(0u, User32.MsgWaitForMultipleObjectsEx(1, &handle, 1_000, User32.QS_ALLINPUT, User32.MWMO_WAITALL));
        Kernel32.CloseHandle(handle);
    });

    [Fact]
    public void An_alertable_wait_runs_queued_APCs_and_returns_WAIT_IO_COMPLETION() => UserTest.OnNewThread(() =>
    {
        var ran = 0;
        UserTest.EnsureQueue();
        Assert.True(Kernel32.QueueUserAPC(p => ran += (int)p, Kernel32.GetCurrentThread(), 5));
        Assert.Equal(Kernel32.WAIT_IO_COMPLETION, User32.MsgWaitForMultipleObjectsEx(0, null, 1_000, User32.QS_ALLINPUT, User32.MWMO_ALERTABLE));
        Assert.Equal(5, ran);
    });

    [Fact]
    public void Bad_counts_and_flags_fail_with_ERROR_INVALID_PARAMETER() => UserTest.OnNewThread(() =>
    {
        var handles = stackalloc nint[64];
        Assert.Equal(Kernel32.WAIT_FAILED, User32.MsgWaitForMultipleObjectsEx(64, handles, 0, User32.QS_ALLINPUT, 0));
        Assert.Equal((uint)KernelBridge.Abi.Win32Error.ERROR_INVALID_PARAMETER, UserTest.LastError);
        Assert.Equal(Kernel32.WAIT_FAILED, User32.MsgWaitForMultipleObjectsEx(0, null, 0, User32.QS_ALLINPUT, 0x100));
        Assert.Equal((uint)KernelBridge.Abi.Win32Error.ERROR_INVALID_PARAMETER, UserTest.LastError);
    });

    [Fact]
    public void A_message_sent_during_the_wait_is_run_and_counts_as_input_with_QS_SENDMESSAGE()
    {
        using var scope = UserTest.Scope();
        var ran = 0;
        nint hwnd = 0;
        using var ready = new ManualResetEventSlim();
        var waiter = UserTest.Start(() =>
        {
            hwnd = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
            {
                if (m == WM_USER) ran++;
                return User32.DefWindowProc(h, m, w, l);
            }));
            ready.Set();
            Assert.Equal(0u, User32.MsgWaitForMultipleObjectsEx(0, null, 20_000, User32.QS_SENDMESSAGE, 0));
            Assert.Equal(1, ran);
            Assert.True(User32.DestroyWindow(hwnd));
        });
        Assert.True(ready.Wait(UserTest.Timeout));
        UserTest.OnNewThread(() => User32.SendMessage(hwnd, WM_USER, 0, 0));
        waiter.Join();
    }
}
