using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// Hostile and wrong calls get their error and change nothing: results handed back for sent
/// messages the caller is not running, continuing a send the caller never made, bad window
/// filters, oversized WM_COPYDATA, message waits with too many objects or bad handles.
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed unsafe class BadInputTests
{
    [Fact]
    public void A_result_for_a_sent_message_the_thread_is_not_running_is_refused() => UserTest.OnNewThread(() =>
    {
        var gate = GateClient.Current;
        Assert.Equal(NtStatus.STATUS_NOT_FOUND, Syscalls.NtUserReplyMessage(gate, new NtUserReplyMessageRequest(0xDEAD_BEEF, 1), out _));
        // Piggy-backed on a peek, it is ignored and the peek goes on.
        using var answer = Syscalls.NtUserPeekMessage(gate, new NtUserPeekMessageRequest(0, 0, 0, User32.PM_REMOVE, 0, 0xDEAD_BEEF, 1));
        Assert.Equal(NtStatus.STATUS_SUCCESS, answer.Status);
        Assert.Equal(MessageKind.None, answer.Reply.Kind);
    });

    [Fact]
    public void Continuing_a_send_the_thread_never_made_is_STATUS_INVALID_PARAMETER() => UserTest.OnNewThread(() =>
    {
        using var answer = Syscalls.NtUserContinueSendMessage(GateClient.Current, new NtUserContinueSendMessageRequest(12345, 0, 0));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, answer.Status);
    });

    [Fact]
    public void A_window_filter_that_names_no_window_is_ERROR_INVALID_WINDOW_HANDLE() => UserTest.OnNewThread(() =>
    {
        Assert.False(User32.PeekMessage(out _, 0x0BAD_0000, 0, 0, User32.PM_REMOVE));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        Assert.Equal(-1, User32.GetMessage(out _, 0x0BAD_0000, 0, 0));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
    });

    [Fact]
    public void WM_COPYDATA_over_the_limit_is_refused_and_sends_nothing()
    {
        using var scope = UserTest.Scope();
        var ran = false;
        using var receiver = new Receiver((h, m, w, l) =>
        {
            if (m == User32.WM_COPYDATA) ran = true;
            return User32.DefWindowProc(h, m, w, l);
        });
        var bytes = new byte[(1 << 20) + 1];
        UserTest.OnNewThread(() =>
        {
            fixed (byte* data = bytes)
            {
                var copy = new COPYDATASTRUCT { cbData = (uint)bytes.Length, lpData = (nint)data };
                Assert.Equal(0, User32.SendMessage(receiver.Hwnd, User32.WM_COPYDATA, 0, (nint)(&copy)));
                Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, UserTest.LastError);
            }
        });
        Assert.Equal(0, User32.QueryUserObjectCounts(UserTest.Gate).SentMessages);
        Assert.False(ran);
    }

    [Fact]
    public void A_message_wait_on_a_bad_handle_fails_and_leaves_no_wait_behind() => UserTest.OnNewThread(() =>
    {
        var handles = stackalloc nint[1] { 0x7FF0 };
        Assert.Equal(Kernel32.WAIT_FAILED, User32.MsgWaitForMultipleObjects(1, handles, false, 0, User32.QS_ALLINPUT));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, UserTest.LastError);
        // The queue still works, and the thread is not parked anywhere.
        UserTest.EnsureQueue();
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), User32.WM_USER, 0, 0));
        Assert.Equal(0u, User32.MsgWaitForMultipleObjectsEx(0, null, 1_000, User32.QS_ALLINPUT, User32.MWMO_INPUTAVAILABLE));
        Assert.True(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
    });
}
