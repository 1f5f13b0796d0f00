using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// SendMessage between threads: the procedure runs on the window's thread and its LRESULT comes
/// back; to the caller's own window it is a plain call; a sender blocked in SendMessage still runs
/// messages sent to it (A to B to A); InSendMessage and ReplyMessage; SendMessageTimeout (timeout,
/// a withdrawn message, SMTO_ABORTIFHUNG, SMTO_BLOCK); SendNotifyMessage; a receiver that dies
/// before answering (Microsoft's SendMessage, SendMessageTimeout, ReplyMessage documentation;
/// "What happens when SendMessageTimeout times out", The Old New Thing; Wine user32/tests/msg.c).
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed class SendMessageTests
{
    private const uint WM_USER = User32.WM_USER;

    [Fact]
    public void SendMessage_to_a_window_of_the_calling_thread_calls_its_procedure_directly() => UserTest.OnNewThread(() =>
    {
        var inSend = true;
        var hwnd = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
        {
            if (m != WM_USER) return User32.DefWindowProc(h, m, w, l);
            inSend = User32.InSendMessage();
            return w * 2;
        }));
        Assert.Equal(42, User32.SendMessage(hwnd, WM_USER, 21, 0));
        Assert.False(inSend);
        Assert.True(User32.DestroyWindow(hwnd));
    });

    [Fact]
    public void SendMessage_to_another_thread_runs_the_procedure_there_and_returns_its_result()
    {
        using var scope = UserTest.Scope();
        uint ranOn = 0;
        var inSend = false;
        using var receiver = new Receiver((h, m, w, l) =>
        {
            if (m != WM_USER) return User32.DefWindowProc(h, m, w, l);
            ranOn = Kernel32.GetCurrentThreadId();
            inSend = User32.InSendMessage();
            return w + l;
        });
        UserTest.OnNewThread(() => Assert.Equal(300, User32.SendMessage(receiver.Hwnd, WM_USER, 100, 200)));
        Assert.Equal(receiver.ThreadId, ranOn);
        Assert.True(inSend);
    }

    [Fact]
    public void A_thread_blocked_in_SendMessage_runs_the_messages_sent_to_it()
    {
        using var scope = UserTest.Scope();
        // A sends to B; B's procedure sends to A's window while A waits: A must answer, or both hang.
        nint hwndA = 0;
        uint ranOn = 0;
        using var b = new Receiver((h, m, w, l) => m == WM_USER ? User32.SendMessage(w, WM_USER + 1, l, 0) + 1 : User32.DefWindowProc(h, m, w, l));
        UserTest.OnNewThread(() =>
        {
            hwndA = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
            {
                if (m != WM_USER + 1) return User32.DefWindowProc(h, m, w, l);
                ranOn = Kernel32.GetCurrentThreadId();
                return w * 2;
            }));
            Assert.Equal(43, User32.SendMessage(b.Hwnd, WM_USER, hwndA, 21));
            Assert.Equal(Kernel32.GetCurrentThreadId(), ranOn);
            Assert.True(User32.DestroyWindow(hwndA));
        });
    }

    [Fact]
    public void ReplyMessage_releases_the_sender_before_the_procedure_returns()
    {
        using var scope = UserTest.Scope();
        using var done = new ManualResetEventSlim();
        var repliedFirst = false;
        using var receiver = new Receiver((h, m, w, l) =>
        {
            if (m != WM_USER) return User32.DefWindowProc(h, m, w, l);
            Assert.True(User32.ReplyMessage(5));
            Assert.False(User32.ReplyMessage(6));
            repliedFirst = done.Wait(UserTest.Timeout);
            return 7;
        });
        UserTest.OnNewThread(() =>
        {
            Assert.Equal(5, User32.SendMessage(receiver.Hwnd, WM_USER, 0, 0));
            done.Set();
        });
        Assert.False(User32.ReplyMessage(1));
        // The receiver takes the next sent message only once the procedure above has returned.
        UserTest.OnNewThread(() => Assert.Equal(0, User32.SendMessage(receiver.Hwnd, User32.WM_NULL, 0, 0)));
        Assert.True(repliedFirst);
    }

    [Fact]
    public void SendMessageTimeout_to_a_thread_that_does_not_pump_times_out_and_withdraws_the_message()
    {
        using var scope = UserTest.Scope();
        var ran = false;
        using var receiver = new Receiver((h, m, w, l) =>
        {
            if (m == WM_USER) ran = true;
            return User32.DefWindowProc(h, m, w, l);
        }, pump: false);
        UserTest.OnNewThread(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, User32.SendMessageTimeout(receiver.Hwnd, WM_USER, 0, 0, User32.SMTO_NORMAL, 300, out var result));
            Assert.Equal((uint)Win32Error.ERROR_TIMEOUT, UserTest.LastError);
            Assert.True(clock.ElapsedMilliseconds >= 250, $"timed out after {clock.ElapsedMilliseconds} ms");
            Assert.Equal(0, result);
        });
        // The message never delivered is gone, as if never sent.
        Assert.Equal(0, UserTest.WaitForCounts(c => c.SentMessages == 0).SentMessages);
        Assert.False(ran);
    }

    [Fact]
    public void SendMessageTimeout_with_SMTO_ABORTIFHUNG_returns_at_once_for_a_hung_thread()
    {
        using var scope = UserTest.Scope();
        using var receiver = new Receiver(User32.DefWindowProc, pump: false);
        // Hung: it has asked for no message for more than 5 seconds and is not waiting for one.
        Thread.Sleep(5_300);
        UserTest.OnNewThread(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, User32.SendMessageTimeout(receiver.Hwnd, WM_USER, 0, 0, User32.SMTO_ABORTIFHUNG, 10_000, out _));
            Assert.Equal((uint)Win32Error.ERROR_TIMEOUT, UserTest.LastError);
            Assert.True(clock.ElapsedMilliseconds < 2_000, $"took {clock.ElapsedMilliseconds} ms");
        });
    }

    [Fact]
    public void SendMessageTimeout_with_SMTO_ABORTIFHUNG_waits_for_a_thread_waiting_in_GetMessage()
    {
        using var scope = UserTest.Scope();
        using var receiver = new Receiver((h, m, w, l) => m == WM_USER ? 9 : User32.DefWindowProc(h, m, w, l));
        Thread.Sleep(5_300);
        UserTest.OnNewThread(() =>
        {
            Assert.Equal(1, User32.SendMessageTimeout(receiver.Hwnd, WM_USER, 0, 0, User32.SMTO_ABORTIFHUNG, 10_000, out var result));
            Assert.Equal(9, result);
        });
    }

    [Fact]
    public void SMTO_BLOCK_keeps_the_sender_from_running_messages_sent_to_it()
    {
        using var scope = UserTest.Scope();
        using var b = new Receiver((h, m, w, l) =>
            m == WM_USER ? User32.SendMessageTimeout(w, WM_USER + 1, 0, 0, User32.SMTO_NORMAL, 300, out _) : User32.DefWindowProc(h, m, w, l));
        UserTest.OnNewThread(() =>
        {
            var calls = 0;
            var hwndA = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
            {
                if (m == WM_USER + 1) calls++;
                return User32.DefWindowProc(h, m, w, l);
            }));
            // A blocks: B's send to A times out (B returns 0), then B answers A.
            Assert.Equal(1, User32.SendMessageTimeout(b.Hwnd, WM_USER, hwndA, 0, User32.SMTO_BLOCK, 5_000, out var result));
            Assert.Equal(0, result);
            Assert.Equal(0, calls);
            Assert.True(User32.DestroyWindow(hwndA));
        });
    }

    [Fact]
    public void SendNotifyMessage_does_not_wait_for_the_receiver()
    {
        using var scope = UserTest.Scope();
        using var release = new ManualResetEventSlim();
        using var ran = new ManualResetEventSlim();
        using var receiver = new Receiver((h, m, w, l) =>
        {
            if (m != WM_USER) return User32.DefWindowProc(h, m, w, l);
            release.Wait(UserTest.Timeout);
            ran.Set();
            return 0;
        });
        UserTest.OnNewThread(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.True(User32.SendNotifyMessage(receiver.Hwnd, WM_USER, 0, 0));
            Assert.True(clock.ElapsedMilliseconds < 2_000);
        });
        release.Set();
        Assert.True(ran.Wait(UserTest.Timeout));
    }

    [Fact]
    public void SendMessage_to_a_thread_that_exits_before_answering_returns_0_without_hanging()
    {
        using var scope = UserTest.Scope();
        using var receiver = new Receiver(User32.DefWindowProc, pump: false);
        var sender = UserTest.Start(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, User32.SendMessage(receiver.Hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, UserTest.LastError);
            Assert.True(clock.ElapsedMilliseconds < 15_000, $"took {clock.ElapsedMilliseconds} ms");
        });
        Thread.Sleep(200);
        receiver.Release();
        sender.Join();
        Assert.False(User32.IsWindow(receiver.Hwnd));
    }
    [Fact]
    public void Many_threads_sending_at_once_each_get_their_own_results()
    {
        using var scope = UserTest.Scope();
        using var receiver = new Receiver((h, m, w, l) => m == WM_USER ? w * 1000 + l : User32.DefWindowProc(h, m, w, l));
        var senders = Enumerable.Range(1, 4).Select(id => UserTest.Start(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                if (i % 3 == 0)
                {
                    Assert.Equal(1, User32.SendMessageTimeout(receiver.Hwnd, WM_USER, id, i, User32.SMTO_NORMAL, 10_000, out var result));
                    Assert.Equal(id * 1000 + i, result);
                }
                else Assert.Equal(id * 1000 + i, User32.SendMessage(receiver.Hwnd, WM_USER, id, i));
            }
        })).ToList();
        foreach (var sender in senders) sender.Join();
        Assert.Equal(0, UserTest.WaitForCounts(c => c.SentMessages == 0).SentMessages);
    }
}
