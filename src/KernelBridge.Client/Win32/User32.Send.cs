using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Win32;

public static unsafe partial class User32
{
    public const uint SMTO_NORMAL = SendMessageTimeoutFlags.SMTO_NORMAL;
    public const uint SMTO_BLOCK = SendMessageTimeoutFlags.SMTO_BLOCK;
    public const uint SMTO_ABORTIFHUNG = SendMessageTimeoutFlags.SMTO_ABORTIFHUNG;
    public const uint SMTO_NOTIMEOUTIFNOTHUNG = SendMessageTimeoutFlags.SMTO_NOTIMEOUTIFNOTHUNG;
    public const uint SMTO_ERRORONEXIT = SendMessageTimeoutFlags.SMTO_ERRORONEXIT;

    /// <summary>
    /// SendMessage: the window procedure's result. To a window of this thread it is a plain call;
    /// to another thread's (of any process) the thread waits for the result, running the messages
    /// sent to it meanwhile. 0 with the last error when the window is bad or its thread died first.
    /// </summary>
    public static nint SendMessage(nint hWnd, uint msg, nint wParam, nint lParam) =>
        Send(hWnd, msg, wParam, lParam, 0, hasTimeout: false, 0, notify: false, out var result) ? result : 0;

    /// <summary>
    /// SendMessageTimeout: nonzero on success with the result in <paramref name="lpdwResult"/>; 0 with
    /// ERROR_TIMEOUT when the time ran out or, with SMTO_ABORTIFHUNG, the receiver is hung (asked for
    /// no message for 5 seconds and is not waiting for one). SMTO_BLOCK runs no sent messages meanwhile.
    /// </summary>
    public static nint SendMessageTimeout(nint hWnd, uint msg, nint wParam, nint lParam, uint fuFlags, uint uTimeout, out nint lpdwResult) =>
        Send(hWnd, msg, wParam, lParam, fuFlags, hasTimeout: true, uTimeout, notify: false, out lpdwResult) ? 1 : 0;

    /// <summary>SendNotifyMessage: to this thread's window a plain call; to another thread's, queued as a sent message without waiting.</summary>
    public static bool SendNotifyMessage(nint hWnd, uint msg, nint wParam, nint lParam) =>
        Send(hWnd, msg, wParam, lParam, 0, hasTimeout: false, 0, notify: true, out _);

    private static bool Send(nint hWnd, uint msg, nint wParam, nint lParam, uint flags, bool hasTimeout, uint timeout, bool notify, out nint result)
    {
        result = 0;
        if (Windows.TryGetValue(hWnd, out var own) && own.ThreadId == GateClient.CurrentThreadId)
        {
            result = own.Procedure(hWnd, msg, wParam, lParam);
            return true;
        }
        var payload = ReadOnlySpan<byte>.Empty;
        var wireLParam = (long)lParam;
        if (msg == WindowMessages.WM_COPYDATA && lParam != 0)
        {
            if (notify)
            {
                SetLastError(Win32Error.ERROR_MESSAGE_SYNC_ONLY);
                return false;
            }
            // The bytes travel; dwData goes where the pointer was, and the receiver builds its own COPYDATASTRUCT.
            var data = (COPYDATASTRUCT*)lParam;
            payload = new ReadOnlySpan<byte>((void*)data->lpData, (int)Math.Min(data->cbData, (uint)int.MaxValue));
            wireLParam = data->dwData;
        }
        if (!TryGate(out var gate)) return false;
        var request = new NtUserSendMessageRequest(hWnd, msg, flags | (notify ? NtUserSendMessageRequest.Notify : 0), wParam, wireLParam,
            hasTimeout ? 1u : 0, timeout, 0, 0);
        ulong sendId = 0;
        ulong replyId = 0;
        long replyResult = 0;
        var first = true;
        while (true)
        {
            using var answer = first
                ? Syscalls.NtUserSendMessage(gate, request, new(payload))
                : Syscalls.NtUserContinueSendMessage(gate, new NtUserContinueSendMessageRequest(sendId, replyId, replyResult));
            first = false;
            if (answer.Status == NtStatus.STATUS_TIMEOUT)
            {
                SetLastError(Win32Error.ERROR_TIMEOUT);
                return false;
            }
            if (!answer.Status.IsSuccess) return Fail(answer.Status);
            var reply = answer.Reply;
            switch (reply.Kind)
            {
                case MessageKind.Local:
                    result = CallOwnWindow(hWnd, msg, wParam, lParam);
                    return true;
                case MessageKind.Sent:
                    sendId = reply.SendId;
                    replyId = reply.SentId;
                    replyResult = RunSent(gate, reply, MessageReply.ReadData(in reply, answer.Data).Payload);
                    continue;
                default:
                    result = (nint)reply.Result;
                    return true;
            }
        }
    }

    private static nint CallOwnWindow(nint hWnd, uint msg, nint wParam, nint lParam)
    {
        if (Windows.TryGetValue(hWnd, out var window)) return window.Procedure(hWnd, msg, wParam, lParam);
        SetLastError(Win32Error.ERROR_INVALID_WINDOW_HANDLE);
        return 0;
    }

    /// <summary>
    /// Runs a message another thread sent to one of this thread's windows, inside whatever call of
    /// this thread was waiting. WM_COPYDATA's bytes are copied into memory valid during the call.
    /// Returns the result the caller hands back; if the procedure throws, 0 is answered first.
    /// </summary>
    private static long RunSent(GateClient gate, in MessageReply reply, ReadOnlySpan<byte> payload)
    {
        var frames = _sentFrames ??= [];
        frames.Add(new SentFrame { Id = reply.SentId });
        var hwnd = (nint)reply.Hwnd;
        var lParam = (nint)reply.LParam;
        byte* copy = null;
        try
        {
            if (reply.Message == WindowMessages.WM_COPYDATA)
            {
                copy = (byte*)NativeMemory.Alloc((nuint)(sizeof(COPYDATASTRUCT) + payload.Length));
                var data = (COPYDATASTRUCT*)copy;
                data->dwData = (nint)reply.LParam;
                data->cbData = (uint)payload.Length;
                data->lpData = payload.IsEmpty ? 0 : (nint)(copy + sizeof(COPYDATASTRUCT));
                payload.CopyTo(new Span<byte>(copy + sizeof(COPYDATASTRUCT), payload.Length));
                lParam = (nint)data;
            }
            return CallOwnWindow(hwnd, reply.Message, (nint)reply.WParam, lParam);
        }
        catch
        {
            if (!frames[^1].Replied) Syscalls.NtUserReplyMessage(gate, new NtUserReplyMessageRequest(reply.SentId, 0), out _);
            throw;
        }
        finally
        {
            frames.RemoveAt(frames.Count - 1);
            if (copy is not null) NativeMemory.Free(copy);
        }
    }

    /// <summary>InSendMessage: whether this thread is running a message sent by another thread.</summary>
    public static bool InSendMessage() => _sentFrames is { Count: > 0 };

    /// <summary>ReplyMessage: answers the sent message this thread is running now, so its sender goes on; FALSE if there is none or it was answered.</summary>
    public static bool ReplyMessage(nint lResult)
    {
        if (_sentFrames is not { Count: > 0 } frames || frames[^1].Replied) return false;
        if (!TryGate(out var gate)) return false;
        var frame = frames[^1];
        frame.Replied = true;
        frames[^1] = frame;
        return Syscalls.NtUserReplyMessage(gate, new NtUserReplyMessageRequest(frame.Id, lResult), out _).IsSuccess;
    }
}
