using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-posted-messages is Windows' USERPostMessageLimit (10,000 by default): a thread's queue holds
/// that many posted messages, and the next post fails with ERROR_NOT_ENOUGH_QUOTA. Taking one makes
/// room; the queues of other threads and processes are unaffected.
/// </summary>
public sealed class PostedMessageQuotaTests
{
    private const int Limit = 5;
    private const uint WM_USER = 0x0400;

    [Fact]
    public void The_post_past_the_queue_limit_fails_with_ERROR_NOT_ENOUGH_QUOTA_and_taking_one_makes_room()
    {
        using var kernel = QuotaTest.StartKernel("q-posted", "--max-posted-messages", $"{Limit}");
        using var hostile = QuotaTest.Connect(kernel);
        using var other = QuotaTest.Connect(kernel);
        OnThread(hostile, () =>
        {
            var me = Kernel32.GetCurrentThreadId();
            User32.PeekMessage(out _, 0, 0, 0, User32.PM_NOREMOVE);
            for (var i = 0; i < Limit; i++) Assert.True(User32.PostThreadMessage(me, WM_USER, i, 0), $"post {i} failed with {Kernel32.GetLastError()}");
            Assert.False(User32.PostThreadMessage(me, WM_USER, Limit, 0));
            Assert.Equal((uint)Win32Error.ERROR_NOT_ENOUGH_QUOTA, Kernel32.GetLastError());
            Assert.Contains(KernelControl.QueryQuotas(hostile).RowsOf(Environment.ProcessId), row => row.PostedMessages == Limit);

            // Another process's thread has a queue of its own.
            OnThread(other, () =>
            {
                var them = Kernel32.GetCurrentThreadId();
                User32.PeekMessage(out _, 0, 0, 0, User32.PM_NOREMOVE);
                Assert.True(User32.PostThreadMessage(them, WM_USER, 1, 0), $"error {Kernel32.GetLastError()}");
                Assert.True(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
            });

            Assert.True(User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_REMOVE));
            Assert.Equal(0, msg.wParam);
            Assert.True(User32.PostThreadMessage(me, WM_USER, Limit, 0), $"error {Kernel32.GetLastError()}");
            var taken = 0;
            while (User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE)) taken++;
            Assert.Equal(Limit, taken);
        });
    }

    /// <summary>Runs <paramref name="body"/> on a new thread that calls through <paramref name="gate"/>; bounded.</summary>
    private static void OnThread(GateClient gate, Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (GateClient.Use(gate)) body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(QuotaTest.Timeout), "the thread did not finish");
        if (failure is not null) throw new Xunit.Sdk.XunitException($"on the thread: {failure}");
    }
}
