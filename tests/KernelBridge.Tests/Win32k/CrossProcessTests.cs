using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// The message mechanism between processes, with a TestClient process as the other side:
/// FindWindowEx and GetWindowThreadProcessId across processes, SendMessage's round trip, WM_COPYDATA's
/// bytes, the A to B to A nested send, a receiver that dies inside the call, windows of a killed
/// process, SendMessageTimeout to a process that does not pump, DestroyWindow of another
/// process's window, RegisterWindowMessage across processes.
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed unsafe class CrossProcessTests(Win32kKernelFixture fixture)
{
    private const uint WM_USER = User32.WM_USER;
    private const string ServerClass = "KbTestServer";

    private sealed class Server(ChildProcess child, nint hwnd, uint threadId) : IDisposable
    {
        public ChildProcess Child { get; } = child;
        public nint Hwnd { get; } = hwnd;
        public uint ThreadId { get; } = threadId;

        public void Dispose() => Child.Dispose();
    }

    private ChildProcess Start(params string[] arguments) =>
        ChildProcess.StartDll("KernelBridge.TestClient.dll", null, ["win32k", fixture.Instance, .. arguments]);

    /// <summary>A child with a message-only window (mode server or hang), once it said "ready HWND TID".</summary>
    private Server StartServer(string mode = "server")
    {
        var name = UserTest.UniqueName("server");
        var child = Start(mode, name);
        var deadline = DateTime.UtcNow + UserTest.Timeout;
        while (DateTime.UtcNow < deadline && !child.Output.Contains("ready", StringComparison.Ordinal) && !child.Process.HasExited) Thread.Sleep(20);
        var line = child.Output.Split('\n').FirstOrDefault(l => l.StartsWith("ready ", StringComparison.Ordinal));
        if (line is null)
        {
            var output = child.Output;
            child.Dispose();
            Assert.Fail($"test client win32k {mode} never said ready; output:{Environment.NewLine}{output}");
        }
        var parts = line.Trim().Split(' ');
        return new Server(child, nint.Parse(parts[1], CultureInfo.InvariantCulture), uint.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void FindWindowEx_finds_a_message_only_window_of_another_process()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            var found = User32.FindWindowEx(User32.HWND_MESSAGE, 0, ServerClass, null);
            while (found != 0 && found != server.Hwnd) found = User32.FindWindowEx(User32.HWND_MESSAGE, found, ServerClass, null);
            Assert.Equal(server.Hwnd, found);
            Assert.Equal(server.ThreadId, User32.GetWindowThreadProcessId(found, out var pid));
            Assert.Equal((uint)server.Child.Id, pid);
        });
    }

    [Fact]
    public void SendMessage_to_a_window_of_another_process_returns_its_result()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            for (var i = 0; i < 100; i++) Assert.Equal(1000 + i, User32.SendMessage(server.Hwnd, WM_USER, 1000, i));
        });
    }

    [Fact]
    public void WM_COPYDATA_carries_its_bytes_to_the_other_process()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        var bytes = new byte[100_000];
        new Random(7).NextBytes(bytes);
        long sum = 0;
        foreach (var b in bytes) sum += b;
        UserTest.OnNewThread(() =>
        {
            fixed (byte* data = bytes)
            {
                var copy = new COPYDATASTRUCT { dwData = 3, cbData = (uint)bytes.Length, lpData = (nint)data };
                Assert.Equal((nint)(sum + bytes.Length * 1_000_000L + 3 * 1_000_000_000_000L),
                    User32.SendMessage(server.Hwnd, User32.WM_COPYDATA, 0, (nint)(&copy)));
                var empty = new COPYDATASTRUCT { dwData = 1, cbData = 0, lpData = 0 };
                Assert.Equal(unchecked((nint)1_000_000_000_000L), User32.SendMessage(server.Hwnd, User32.WM_COPYDATA, 0, (nint)(&empty)));
            }
            // WM_COPYDATA carries a pointer: it cannot be posted.
            Assert.False(User32.PostMessage(server.Hwnd, User32.WM_COPYDATA, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_MESSAGE_SYNC_ONLY, UserTest.LastError);
        });
    }

    [Fact]
    public void A_nested_send_back_to_the_blocked_sender_in_another_process_does_not_deadlock()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            var ranOn = 0u;
            var hwnd = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
            {
                if (m != WM_USER + 2) return User32.DefWindowProc(h, m, w, l);
                ranOn = Kernel32.GetCurrentThreadId();
                Assert.True(User32.InSendMessage());
                return w * 2;
            }));
            var clock = Stopwatch.StartNew();
            Assert.Equal(43, User32.SendMessage(server.Hwnd, WM_USER + 1, hwnd, 21));
            Assert.Equal(Kernel32.GetCurrentThreadId(), ranOn);
            Assert.True(clock.Elapsed < UserTest.Timeout);
            Assert.True(User32.DestroyWindow(hwnd));
        });
    }

    [Fact]
    public void SendMessage_to_a_process_that_dies_in_the_call_returns_0_and_its_window_is_gone()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, User32.SendMessage(server.Hwnd, WM_USER + 3, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, UserTest.LastError);
            Assert.True(clock.ElapsedMilliseconds < 10_000, $"took {clock.ElapsedMilliseconds} ms");
            Assert.False(User32.IsWindow(server.Hwnd));
            Assert.False(User32.PostMessage(server.Hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        });
        Assert.True(server.Child.WaitForExit(UserTest.Timeout));
    }

    [Fact]
    public void The_windows_and_queues_of_a_killed_process_go_and_its_handles_stay_invalid()
    {
        using var scope = UserTest.Scope();
        var before = User32.QueryUserObjectCounts(UserTest.Gate);
        var server = StartServer();
        Assert.True(User32.IsWindow(server.Hwnd));
        server.Child.Kill();
        server.Dispose();
        var after = UserTest.WaitForCounts(c => c.Windows <= before.Windows && c.Queues <= before.Queues && c.Classes <= before.Classes);
        Assert.True(after.Windows <= before.Windows, $"windows: {after.Windows}, before {before.Windows}");
        Assert.True(after.Classes <= before.Classes, $"classes: {after.Classes}, before {before.Classes}");
        UserTest.OnNewThread(() =>
        {
            Assert.False(User32.PostMessage(server.Hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
            Assert.Equal(0, User32.SendMessage(server.Hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
            Assert.False(User32.PostThreadMessage(server.ThreadId, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_THREAD_ID, UserTest.LastError);
        });
    }

    [Fact]
    public void A_window_another_process_destroyed_is_invalid_here()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            Assert.False(User32.DestroyWindow(server.Hwnd));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, UserTest.LastError);
            Assert.Equal(1, User32.SendMessage(server.Hwnd, WM_USER + 4, 0, 0));
            Assert.False(User32.IsWindow(server.Hwnd));
            Assert.False(User32.PostMessage(server.Hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        });
    }

    [Fact]
    public void SendMessageTimeout_to_a_process_that_does_not_pump_times_out_and_SMTO_ABORTIFHUNG_gives_up_at_once_once_it_is_hung()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer("hang");
        UserTest.OnNewThread(() =>
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, User32.SendMessageTimeout(server.Hwnd, WM_USER, 1, 2, User32.SMTO_NORMAL, 300, out _));
            Assert.Equal((uint)Win32Error.ERROR_TIMEOUT, UserTest.LastError);
            Assert.InRange(clock.ElapsedMilliseconds, 250, 10_000);
            Thread.Sleep(5_300);
            clock.Restart();
            Assert.Equal(0, User32.SendMessageTimeout(server.Hwnd, WM_USER, 1, 2, User32.SMTO_ABORTIFHUNG, 10_000, out _));
            Assert.Equal((uint)Win32Error.ERROR_TIMEOUT, UserTest.LastError);
            Assert.True(clock.ElapsedMilliseconds < 2_000, $"took {clock.ElapsedMilliseconds} ms");
        });
        Assert.Equal(0, UserTest.WaitForCounts(c => c.SentMessages == 0).SentMessages);
    }

    [Fact]
    public void A_send_that_times_out_while_the_receiver_runs_it_releases_the_sender_and_the_receiver_finishes()
    {
        using var scope = UserTest.Scope();
        using var server = StartServer();
        UserTest.OnNewThread(() =>
        {
            Assert.Equal(0, User32.SendMessageTimeout(server.Hwnd, WM_USER + 5, 0, 1_000, User32.SMTO_NORMAL, 200, out _));
            Assert.Equal((uint)Win32Error.ERROR_TIMEOUT, UserTest.LastError);
            // The receiver finished that call and answers the next.
            Assert.Equal(5, User32.SendMessage(server.Hwnd, WM_USER, 2, 3));
        });
    }

    [Fact]
    public void RegisterWindowMessage_gives_the_same_value_in_every_process()
    {
        using var scope = UserTest.Scope();
        var name = UserTest.UniqueName("KbShared");
        var mine = User32.RegisterWindowMessage(name);
        Assert.InRange(mine, 0xC000u, 0xFFFFu);
        using var child = Start("regmsg", name.ToUpperInvariant());
        Assert.True(child.WaitForLine("message", UserTest.Timeout), child.Output);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"message {mine}"), child.Output, StringComparison.Ordinal);
    }
    [Fact]
    public void A_sender_process_that_dies_before_its_message_is_taken_withdraws_it_and_leaves_nothing_behind()
    {
        using var scope = UserTest.Scope();
        var ran = 0;
        nint hwnd = 0;
        using var created = new ManualResetEventSlim();
        using var killed = new ManualResetEventSlim();
        var owner = UserTest.Start(() =>
        {
            hwnd = UserTest.MessageWindow(UserTest.RegisterClass((h, m, w, l) =>
            {
                if (m == WM_USER + 9) ran++;
                return m == WM_USER + 9 ? 1 : User32.DefWindowProc(h, m, w, l);
            }));
            created.Set();
            // The child's message arrives while this thread does not pump.
            var deadline = DateTime.UtcNow + UserTest.Timeout;
            while ((User32.GetQueueStatus(User32.QS_SENDMESSAGE) >> 16) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.NotEqual(0u, User32.GetQueueStatus(User32.QS_SENDMESSAGE) >> 16);
            Assert.True(killed.Wait(UserTest.Timeout));
            // Its sender gone, the message is withdrawn as a timed-out one is: nothing to run.
            Assert.Equal(0u, User32.GetQueueStatus(User32.QS_SENDMESSAGE) >> 16);
            Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
            Assert.Equal(0, ran);
            // The window and queue are unharmed.
            Assert.Equal(1, User32.SendMessage(hwnd, WM_USER + 9, 0, 0));
            Assert.True(User32.DestroyWindow(hwnd));
        });
        Assert.True(created.Wait(UserTest.Timeout));
        var before = User32.QueryUserObjectCounts(UserTest.Gate);
        using (var sender = Start("send", hwnd.ToString(CultureInfo.InvariantCulture)))
        {
            Assert.True(sender.WaitForLine("sending", UserTest.Timeout), sender.Output);
            UserTest.WaitForCounts(c => c.SentMessages > before.SentMessages);
            sender.Kill();
        }
        // The kernel runs the dead process down once its connection closes: then its message is gone.
        UserTest.WaitForCounts(c => c.SentMessages <= before.SentMessages);
        killed.Set();
        owner.Join();
        Assert.Equal(0, UserTest.WaitForCounts(c => c.SentMessages == 0).SentMessages);
    }
}
