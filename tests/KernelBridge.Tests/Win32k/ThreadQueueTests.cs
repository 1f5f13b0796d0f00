using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// Thread message queues: PostThreadMessage, GetMessage (blocking, filters), PeekMessage
/// (PM_REMOVE / PM_NOREMOVE), PostQuitMessage and WM_QUIT's place, the 10,000-message limit,
/// unknown thread ids and threads without a queue, GetQueueStatus, and queues dying with their
/// thread (Microsoft's PostThreadMessage, GetMessage, PeekMessage and GetQueueStatus documentation;
/// Wine user32/tests/msg.c test_quit_message, test_PostMessage, test_GetQueueStatus).
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed unsafe class ThreadQueueTests
{
    private const uint WM_USER = User32.WM_USER;

    [Fact]
    public void PostThreadMessage_to_an_unknown_thread_fails_with_ERROR_INVALID_THREAD_ID() => UserTest.OnNewThread(() =>
    {
        Assert.False(User32.PostThreadMessage(0x7FFF_FFF0, WM_USER, 1, 2));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_THREAD_ID, UserTest.LastError);
        Assert.False(User32.PostThreadMessage(0, WM_USER, 1, 2));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_THREAD_ID, UserTest.LastError);
    });

    [Fact]
    public void A_thread_has_no_queue_until_its_first_User32_call()
    {
        using var scope = UserTest.Scope();
        using var started = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        using var queued = new ManualResetEventSlim();
        uint threadId = 0;
        var target = UserTest.Start(() =>
        {
            threadId = Kernel32.GetCurrentThreadId();
            // A kernel call that is not a User32 one: the kernel knows the thread, but it has no queue.
            Assert.True(Kernel32.CloseHandle(Kernel32.CreateEvent(0, true, false, null)));
            started.Set();
            Assert.True(goOn.Wait(UserTest.Timeout));
            UserTest.EnsureQueue();
            queued.Set();
            Assert.Equal(1, User32.GetMessage(out var msg, 0, 0, 0));
            Assert.Equal(WM_USER + 7, msg.message);
        });
        UserTest.OnNewThread(() =>
        {
            Assert.True(started.Wait(UserTest.Timeout));
            Assert.False(User32.PostThreadMessage(threadId, WM_USER + 7, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_THREAD_ID, UserTest.LastError);
            goOn.Set();
            Assert.True(queued.Wait(UserTest.Timeout));
            Assert.True(User32.PostThreadMessage(threadId, WM_USER + 7, 0, 0), $"error {UserTest.LastError}");
        });
        target.Join();
    }

    [Fact]
    public void A_posted_thread_message_arrives_with_its_parameters_and_no_window() => UserTest.OnNewThread(() =>
    {
        UserTest.EnsureQueue();
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER + 1, 11, -22));
        Assert.Equal(1, User32.GetMessage(out var msg, 0, 0, 0));
        Assert.Equal(0, msg.hwnd);
        Assert.Equal(WM_USER + 1, msg.message);
        Assert.Equal(11, msg.wParam);
        Assert.Equal(-22, msg.lParam);
    });

    [Fact]
    public void GetMessage_blocks_until_another_thread_posts()
    {
        using var scope = UserTest.Scope();
        using var ready = new ManualResetEventSlim();
        uint threadId = 0;
        long waited = 0;
        var receiver = UserTest.Start(() =>
        {
            threadId = Kernel32.GetCurrentThreadId();
            UserTest.EnsureQueue();
            ready.Set();
            var clock = Stopwatch.StartNew();
            Assert.Equal(1, User32.GetMessage(out var msg, 0, 0, 0));
            waited = clock.ElapsedMilliseconds;
            Assert.Equal(WM_USER + 2, msg.message);
        });
        Assert.True(ready.Wait(UserTest.Timeout));
        UserTest.OnNewThread(() =>
        {
            Thread.Sleep(300);
            Assert.True(User32.PostThreadMessage(threadId, WM_USER + 2, 0, 0));
        });
        receiver.Join();
        Assert.True(waited >= 250, $"GetMessage returned after {waited} ms, before the post");
    }

    [Fact]
    public void GetMessage_takes_only_messages_in_its_filter_and_keeps_the_order_of_the_rest() => UserTest.OnNewThread(() =>
    {
        var me = Kernel32.GetCurrentThreadId();
        UserTest.EnsureQueue();
        for (uint i = 1; i <= 4; i++) Assert.True(User32.PostThreadMessage(me, WM_USER + i, (nint)i, 0));
        Assert.Equal(1, User32.GetMessage(out var msg, 0, WM_USER + 3, WM_USER + 3));
        Assert.Equal(WM_USER + 3, msg.message);
        Assert.True(User32.PeekMessage(out msg, 0, WM_USER + 2, WM_USER + 4, User32.PM_REMOVE));
        Assert.Equal(WM_USER + 2, msg.message);
        // A hWnd of -1 takes thread messages only; these are.
        Assert.Equal(1, User32.GetMessage(out msg, -1, 0, 0));
        Assert.Equal(WM_USER + 1, msg.message);
        Assert.Equal(1, User32.GetMessage(out msg, 0, 0, 0));
        Assert.Equal(WM_USER + 4, msg.message);
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
    });

    [Fact]
    public void PeekMessage_with_PM_NOREMOVE_leaves_the_message_and_PM_REMOVE_takes_it() => UserTest.OnNewThread(() =>
    {
        UserTest.EnsureQueue();
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER + 5, 5, 0));
        Assert.True(User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_NOREMOVE));
        Assert.Equal(WM_USER + 5, msg.message);
        Assert.True(User32.PeekMessage(out msg, 0, 0, 0, User32.PM_NOREMOVE));
        Assert.Equal(WM_USER + 5, msg.message);
        Assert.True(User32.PeekMessage(out msg, 0, 0, 0, User32.PM_REMOVE));
        Assert.Equal(WM_USER + 5, msg.message);
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
    });

    [Fact]
    public void WM_QUIT_comes_after_the_posted_messages_and_passes_any_filter() => UserTest.OnNewThread(() =>
    {
        var me = Kernel32.GetCurrentThreadId();
        UserTest.EnsureQueue();
        User32.PostQuitMessage(42);
        Assert.True(User32.PostThreadMessage(me, WM_USER + 1, 0, 0));
        Assert.Equal(1, User32.GetMessage(out var msg, 0, 0, 0));
        Assert.Equal(WM_USER + 1, msg.message);
        // A filter that WM_QUIT is outside of still gets it.
        Assert.Equal(0, User32.GetMessage(out msg, 0, WM_USER, WM_USER));
        Assert.Equal(User32.WM_QUIT, msg.message);
        Assert.Equal(42, msg.wParam);
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
    });

    [Fact]
    public void A_posted_WM_QUIT_is_a_message_like_any_other() => UserTest.OnNewThread(() =>
    {
        UserTest.EnsureQueue();
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), User32.WM_QUIT, 3, 0));
        Assert.Equal(0, User32.GetMessage(out var msg, 0, 0, 0));
        Assert.Equal(User32.WM_QUIT, msg.message);
        Assert.Equal(3, msg.wParam);
    });

    [Fact]
    public void A_queue_holds_10000_posted_messages_and_the_next_fails_with_ERROR_NOT_ENOUGH_QUOTA() => UserTest.OnNewThread(() =>
    {
        var me = Kernel32.GetCurrentThreadId();
        UserTest.EnsureQueue();
        for (var i = 0; i < 10_000; i++) Assert.True(User32.PostThreadMessage(me, WM_USER, i, 0), $"post {i} failed with {UserTest.LastError}");
        Assert.False(User32.PostThreadMessage(me, WM_USER, 10_000, 0));
        Assert.Equal((uint)Win32Error.ERROR_NOT_ENOUGH_QUOTA, UserTest.LastError);
        Assert.True(User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_REMOVE));
        Assert.Equal(0, msg.wParam);
        Assert.True(User32.PostThreadMessage(me, WM_USER, 10_000, 0), $"error {UserTest.LastError}");
        var count = 0;
        nint last = 0;
        while (User32.PeekMessage(out msg, 0, 0, 0, User32.PM_REMOVE))
        {
            Assert.Equal(last + 1, msg.wParam);
            last = msg.wParam;
            count++;
        }
        Assert.Equal(10_000, count);
        Assert.Equal(10_000, last);
    });

    [Fact]
    public void GetQueueStatus_reports_new_kinds_once_and_present_kinds_until_taken() => UserTest.OnNewThread(() =>
    {
        UserTest.EnsureQueue();
        const uint post = User32.QS_POSTMESSAGE;
        Assert.Equal(0u, User32.GetQueueStatus(post));
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), WM_USER, 0, 0));
        Assert.Equal((post << 16) | post, User32.GetQueueStatus(post));
        Assert.Equal(post << 16, User32.GetQueueStatus(post));
        Assert.True(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
        Assert.Equal(0u, User32.GetQueueStatus(post));

        Kernel32.SetLastError(0u);
        Assert.Equal(0u, User32.GetQueueStatus(0x8000_0000));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_FLAGS, UserTest.LastError);
    });

    [Fact]
    public void A_queue_goes_when_its_thread_exits()
    {
        using var scope = UserTest.Scope();
        uint threadId = 0;
        var before = User32.QueryUserObjectCounts(UserTest.Gate);
        UserTest.OnNewThread(() =>
        {
            threadId = Kernel32.GetCurrentThreadId();
            UserTest.EnsureQueue();
            Assert.True(User32.PostThreadMessage(threadId, WM_USER, 0, 0));
        });
        // The kernel notices an ended thread within a few seconds (its reaper); then the queue and its message are gone.
        var counts = UserTest.WaitForCounts(c => c.Queues <= before.Queues && c.PostedMessages <= before.PostedMessages);
        Assert.True(counts.Queues <= before.Queues, $"queues: {counts.Queues}, before {before.Queues}");
        UserTest.OnNewThread(() =>
        {
            Assert.False(User32.PostThreadMessage(threadId, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_THREAD_ID, UserTest.LastError);
        });
    }
}
