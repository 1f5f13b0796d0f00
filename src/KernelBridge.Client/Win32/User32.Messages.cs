using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

public static unsafe partial class User32
{
    public const uint PM_NOREMOVE = PeekMessageFlags.PM_NOREMOVE;
    public const uint PM_REMOVE = PeekMessageFlags.PM_REMOVE;
    public const uint PM_NOYIELD = PeekMessageFlags.PM_NOYIELD;
    public const uint QS_ALLINPUT = QueueStatus.QS_ALLINPUT;
    public const uint QS_POSTMESSAGE = QueueStatus.QS_POSTMESSAGE;
    public const uint QS_ALLPOSTMESSAGE = QueueStatus.QS_ALLPOSTMESSAGE;
    public const uint QS_SENDMESSAGE = QueueStatus.QS_SENDMESSAGE;
    public const uint MWMO_WAITALL = MsgWaitFlags.MWMO_WAITALL;
    public const uint MWMO_ALERTABLE = MsgWaitFlags.MWMO_ALERTABLE;
    public const uint MWMO_INPUTAVAILABLE = MsgWaitFlags.MWMO_INPUTAVAILABLE;

    /// <summary>Messages below WM_USER whose parameters are pointers: they cannot be posted (ERROR_MESSAGE_SYNC_ONLY).</summary>
    private static bool CarriesPointers(uint msg) => msg is WindowMessages.WM_COPYDATA or WindowMessages.WM_CREATE or WindowMessages.WM_NCCREATE;

    /// <summary>PostThreadMessage: ERROR_INVALID_THREAD_ID if the thread has no message queue (yet), ERROR_NOT_ENOUGH_QUOTA if its queue is full.</summary>
    public static bool PostThreadMessage(uint idThread, uint msg, nint wParam, nint lParam)
    {
        if (CarriesPointers(msg))
        {
            SetLastError(Win32Error.ERROR_MESSAGE_SYNC_ONLY);
            return false;
        }
        if (!TryGate(out var gate)) return false;
        var status = Syscalls.NtUserPostThreadMessage(gate, new NtUserPostThreadMessageRequest(idThread, msg, wParam, lParam), out _);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>PostMessage: to the window's thread (ERROR_INVALID_WINDOW_HANDLE for a bad or destroyed window); a null window posts to this thread.</summary>
    public static bool PostMessage(nint hWnd, uint msg, nint wParam, nint lParam)
    {
        if (CarriesPointers(msg))
        {
            SetLastError(Win32Error.ERROR_MESSAGE_SYNC_ONLY);
            return false;
        }
        if (!TryGate(out var gate)) return false;
        var status = Syscalls.NtUserPostMessage(gate, new NtUserPostMessageRequest(hWnd, msg, 0, wParam, lParam), out _);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>PostQuitMessage: WM_QUIT (wParam = the exit code) comes once the queue holds nothing else.</summary>
    public static void PostQuitMessage(int nExitCode)
    {
        if (TryGate(out var gate)) Syscalls.NtUserPostQuitMessage(gate, new NtUserPostQuitMessageRequest(nExitCode, 0), out _);
    }

    /// <summary>
    /// GetMessage: waits for a posted message in the filter (hWnd 0: any; -1: thread messages only;
    /// min and max 0: any), running the messages sent to this thread meanwhile. 0 for WM_QUIT, -1 on error.
    /// </summary>
    public static int GetMessage(out MSG lpMsg, nint hWnd, uint wMsgFilterMin, uint wMsgFilterMax)
    {
        lpMsg = default;
        if (!TryGate(out var gate)) return -1;
        ulong replyId = 0;
        long replyResult = 0;
        while (true)
        {
            using var answer = Syscalls.NtUserGetMessage(gate, new NtUserGetMessageRequest(hWnd, wMsgFilterMin, wMsgFilterMax, replyId, replyResult));
            if (!answer.Status.IsSuccess)
            {
                Fail(answer.Status);
                return -1;
            }
            var reply = answer.Reply;
            if (reply.Kind == MessageKind.Sent)
            {
                replyId = reply.SentId;
                replyResult = RunSent(gate, reply, MessageReply.ReadData(in reply, answer.Data).Payload);
                continue;
            }
            lpMsg = ToMsg(reply);
            return lpMsg.message == WindowMessages.WM_QUIT ? 0 : 1;
        }
    }

    /// <summary>PeekMessage: never waits; runs the messages sent to this thread first (PM_QS_* can narrow what it processes), then looks for a posted one.</summary>
    public static bool PeekMessage(out MSG lpMsg, nint hWnd, uint wMsgFilterMin, uint wMsgFilterMax, uint wRemoveMsg)
    {
        lpMsg = default;
        if (!TryGate(out var gate)) return false;
        ulong replyId = 0;
        long replyResult = 0;
        while (true)
        {
            using var answer = Syscalls.NtUserPeekMessage(gate,
                new NtUserPeekMessageRequest(hWnd, wMsgFilterMin, wMsgFilterMax, wRemoveMsg, 0, replyId, replyResult));
            if (!answer.Status.IsSuccess) return Fail(answer.Status);
            var reply = answer.Reply;
            switch (reply.Kind)
            {
                case MessageKind.Sent:
                    replyId = reply.SentId;
                    replyResult = RunSent(gate, reply, MessageReply.ReadData(in reply, answer.Data).Payload);
                    continue;
                case MessageKind.Posted or MessageKind.Quit:
                    lpMsg = ToMsg(reply);
                    return true;
                default:
                    return false;
            }
        }
    }

    private static MSG ToMsg(in MessageReply reply) => new()
    {
        hwnd = (nint)reply.Hwnd,
        message = reply.Message,
        wParam = (nint)reply.WParam,
        lParam = (nint)reply.LParam,
        time = reply.Time,
    };

    /// <summary>WaitMessage: waits until new input arrives (running sent messages meanwhile).</summary>
    public static bool WaitMessage() => MsgWaitForMultipleObjectsEx(0, null, Kernel32.INFINITE, QueueStatus.QS_ALLINPUT, 0) != Kernel32.WAIT_FAILED;

    /// <summary>GetQueueStatus: MAKELONG(kinds new since the last look, kinds in the queue); ERROR_INVALID_FLAGS for an unknown bit.</summary>
    public static uint GetQueueStatus(uint flags)
    {
        if (!TryGate(out var gate)) return 0;
        var status = Syscalls.NtUserGetQueueStatus(gate, new NtUserGetQueueStatusRequest(flags, 0), out var reply);
        if (status.IsSuccess) return reply.Status;
        Fail(status);
        return 0;
    }

    public static uint MsgWaitForMultipleObjects(uint nCount, nint* pHandles, bool fWaitAll, uint dwMilliseconds, uint dwWakeMask) =>
        MsgWaitForMultipleObjectsEx(nCount, pHandles, dwMilliseconds, dwWakeMask, fWaitAll ? MsgWaitFlags.MWMO_WAITALL : 0);

    /// <summary>
    /// MsgWaitForMultipleObjectsEx: WAIT_OBJECT_0 + i for an object, WAIT_OBJECT_0 + nCount for input
    /// of <paramref name="dwWakeMask"/> (new since the last look, or any with MWMO_INPUTAVAILABLE),
    /// WAIT_IO_COMPLETION after APCs (MWMO_ALERTABLE), WAIT_TIMEOUT, or WAIT_FAILED. Messages sent to
    /// the thread meanwhile are run; with QS_SENDMESSAGE in the mask that counts as input.
    /// </summary>
    public static uint MsgWaitForMultipleObjectsEx(uint nCount, nint* pHandles, uint dwMilliseconds, uint dwWakeMask, uint dwFlags)
    {
        if (nCount > NtUserMsgWaitForMultipleObjectsExRequest.MaximumObjects)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return Kernel32.WAIT_FAILED;
        }
        if (pHandles is null && nCount != 0)
        {
            SetLastError(Win32Error.ERROR_NOACCESS);
            return Kernel32.WAIT_FAILED;
        }
        if (!TryGate(out var gate)) return Kernel32.WAIT_FAILED;
        Span<long> handles = stackalloc long[(int)nCount];
        for (var i = 0; i < handles.Length; i++) handles[i] = pHandles[i];
        var deadline = dwMilliseconds == Kernel32.INFINITE ? long.MaxValue : Environment.TickCount64 + dwMilliseconds;
        ulong replyId = 0;
        long replyResult = 0;
        while (true)
        {
            var left = deadline == long.MaxValue ? 0 : Math.Max(0, deadline - Environment.TickCount64);
            var request = new NtUserMsgWaitForMultipleObjectsExRequest(nCount, dwWakeMask, dwFlags, deadline == long.MaxValue ? 0u : 1, -left * 10_000,
                replyId, replyResult, 0, 0);
            using var answer = Syscalls.NtUserMsgWaitForMultipleObjectsEx(gate, request, new(handles));
            replyId = 0;
            if (answer.Status == NtStatus.STATUS_TIMEOUT) return Kernel32.WAIT_TIMEOUT;
            if (!answer.Status.IsSuccess)
            {
                Fail(answer.Status);
                return Kernel32.WAIT_FAILED;
            }
            var reply = answer.Reply;
            switch (reply.Kind)
            {
                case MessageKind.Object:
                    return (uint)reply.Result;
                case MessageKind.Input:
                    return nCount;
                case MessageKind.Apc:
                    Ntdll.RunApcs(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ApcRecord>(MessageReply.ReadData(in reply, answer.Data).Payload));
                    return Kernel32.WAIT_IO_COMPLETION;
                case MessageKind.Sent:
                {
                    var result = RunSent(gate, reply, MessageReply.ReadData(in reply, answer.Data).Payload);
                    if ((dwWakeMask & QueueStatus.QS_SENDMESSAGE) != 0)
                    {
                        Syscalls.NtUserReplyMessage(gate, new NtUserReplyMessageRequest(reply.SentId, result), out _);
                        return nCount;
                    }
                    replyId = reply.SentId;
                    replyResult = result;
                    continue;
                }
                default:
                    return Kernel32.WAIT_TIMEOUT;
            }
        }
    }

    /// <summary>TranslateMessage: there is no keyboard here, so nothing to translate.</summary>
    public static bool TranslateMessage(in MSG lpMsg)
    {
        _ = lpMsg;
        return false;
    }

    /// <summary>DispatchMessage: calls the window procedure of a window of this process (0 for a thread message); the procedure's result.</summary>
    public static nint DispatchMessage(in MSG lpMsg)
    {
        if (lpMsg.hwnd == 0) return 0;
        if (!Windows.TryGetValue(lpMsg.hwnd, out var window))
        {
            SetLastError(Win32Error.ERROR_INVALID_WINDOW_HANDLE);
            return 0;
        }
        return window.Procedure(lpMsg.hwnd, lpMsg.message, lpMsg.wParam, lpMsg.lParam);
    }
}
