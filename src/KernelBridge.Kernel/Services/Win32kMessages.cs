using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Win32k;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// The NtUser services of thread message queues: posting, PostQuitMessage, PeekMessage, GetMessage,
/// MsgWaitForMultipleObjectsEx, GetQueueStatus, ReplyMessage. Every call makes the calling thread's
/// queue if it has none yet (its first User32 call). A call that hands back the result of a sent
/// message it ran (ReplyId) has that result delivered first.
/// </summary>
internal sealed partial class SystemServices
{
    private Ex.LookasideList<Win32kWaitCall>? _messageWaits;

    private UserSubsystem User => _host.User;

    /// <summary>The pool of parked message calls, made on first use (the lambda is built only then: this is the hot path).</summary>
    private Ex.LookasideList<Win32kWaitCall> MessageWaits =>
        Volatile.Read(ref _messageWaits) ?? LazyInitializer.EnsureInitialized(ref _messageWaits, () => Win32kWaitCall.NewPool(_dispatcher, _ob, _host.User));

    /// <summary>The caller's queue, with the result of the sent message it just ran handed back; null (answered) if its process is going.</summary>
    private MessageQueue? CallerQueue(in SyscallContext context, ulong replyId, long replyResult)
    {
        if (User.QueueOf(context.Thread) is not { } queue)
        {
            context.Reply.Send(NtStatus.STATUS_PROCESS_IS_TERMINATING, new MessageReply());
            return null;
        }
        if (replyId != 0) User.Reply(queue, replyId, replyResult);
        return queue;
    }

    public void NtUserPostThreadMessage(in SyscallContext context, in NtUserPostThreadMessageRequest request) =>
        context.Reply.Send(User.PostThreadMessage(context.Thread, (int)request.ThreadId, request.Message, request.WParam, request.LParam));

    public void NtUserPostMessage(in SyscallContext context, in NtUserPostMessageRequest request) =>
        context.Reply.Send(User.PostMessage(context.Thread, request.Hwnd, request.Message, request.WParam, request.LParam));

    public void NtUserPostQuitMessage(in SyscallContext context, in NtUserPostQuitMessageRequest request) =>
        context.Reply.Send(User.PostQuitMessage(context.Thread, request.ExitCode));

    public void NtUserPeekMessage(in SyscallContext context, in NtUserPeekMessageRequest request)
    {
        if (CallerQueue(context, request.ReplyId, request.ReplyResult) is not { } queue) return;
        if (!FilterWindowIsValid(request.Hwnd))
        {
            context.Reply.Send(UserStatus.InvalidWindowHandle, new MessageReply());
            return;
        }
        var filter = MessageFilter.ForGet(request.Hwnd, request.FilterMin, request.FilterMax, request.Flags);
        var pick = User.Pick(queue, filter, park: false);
        SendPick(context.Reply, pick, 0);
    }

    public void NtUserGetMessage(in SyscallContext context, in NtUserGetMessageRequest request)
    {
        if (CallerQueue(context, request.ReplyId, request.ReplyResult) is not { } queue) return;
        if (!FilterWindowIsValid(request.Hwnd))
        {
            context.Reply.Send(UserStatus.InvalidWindowHandle, new MessageReply());
            return;
        }
        var filter = MessageFilter.ForGet(request.Hwnd, request.FilterMin, request.FilterMax, PeekMessageFlags.PM_REMOVE);
        MessageWaits.Allocate().Start(context, queue, filter, waitAll: false, alertable: false, Ke.Timeouts.Never);
    }

    /// <summary>A window filter is 0, -1 (thread messages) or a live window.</summary>
    private bool FilterWindowIsValid(long hwnd) => hwnd is 0 or WindowMessages.ThreadMessagesOnly || User.WindowOf(hwnd) is not null;

    public void NtUserMsgWaitForMultipleObjectsEx(in SyscallContext context, in NtUserMsgWaitForMultipleObjectsExRequest request,
        NtUserMsgWaitForMultipleObjectsExRequest.Data data)
    {
        if (request.HandlesSent != NtWaitForMultipleObjectsRequest.HandlesToSend(request.Count))
            throw new ProtocolViolationException($"NtUserMsgWaitForMultipleObjectsEx: {request.HandlesSent} handles sent for a count of {request.Count}");
        if (request.Count > NtUserMsgWaitForMultipleObjectsExRequest.MaximumObjects || (request.Flags & ~MsgWaitFlags.ValidMask) != 0
            || (request.WakeMask & ~QueueStatus.ValidMask) != 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new MessageReply());
            return;
        }
        var waitAll = (request.Flags & MsgWaitFlags.MWMO_WAITALL) != 0;
        var call = MessageWaits.Allocate();
        var status = ReferenceWaitObjects(context, call, data.Handles, waitAll);
        if (!status.IsSuccess)
        {
            call.Abandon();
            context.Reply.Send(status, new MessageReply());
            return;
        }
        if (CallerQueue(context, request.ReplyId, request.ReplyResult) is not { } queue)
        {
            call.Abandon();
            return;
        }
        var filter = new MessageFilter
        {
            TakesSent = true,
            WaitsForInput = true,
            WakeMask = request.WakeMask,
            InputAvailable = (request.Flags & MsgWaitFlags.MWMO_INPUTAVAILABLE) != 0,
        };
        call.Start(context, queue, filter, waitAll, (request.Flags & MsgWaitFlags.MWMO_ALERTABLE) != 0,
            Ke.Timeouts.DeadlineOf(request.HasTimeout != 0 ? request.Timeout : null));
    }

    public void NtUserGetQueueStatus(in SyscallContext context, in NtUserGetQueueStatusRequest request)
    {
        var status = User.GetQueueStatus(context.Thread, request.Flags, out var bits);
        context.Reply.Send(status, new QueueStatusReply(bits, 0));
    }

    public void NtUserReplyMessage(in SyscallContext context, in NtUserReplyMessageRequest request)
    {
        if (User.QueueOf(context.Thread) is not { } queue)
        {
            context.Reply.Send(NtStatus.STATUS_PROCESS_IS_TERMINATING);
            return;
        }
        context.Reply.Send(User.Reply(queue, request.ReplyId, request.Result));
    }

    /// <summary>Answers a message call with what its queue gave (or its failure). <paramref name="sendId"/>: the caller's send still waiting.</summary>
    internal static void SendPick(ReplyTarget reply, in MessagePick pick, ulong sendId)
    {
        var time = unchecked((uint)Environment.TickCount);
        switch (pick.Kind)
        {
            case PickKind.Posted:
            {
                var m = pick.Message;
                reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply(MessageKind.Posted, m.Message, m.Hwnd, m.WParam, m.LParam, 0, 0, 0, m.Time, 0));
                return;
            }
            case PickKind.Quit:
                reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply(MessageKind.Quit, WindowMessages.WM_QUIT, 0, pick.Message.WParam, 0, 0, 0, 0, pick.Message.Time, 0));
                return;
            case PickKind.Sent:
            {
                var m = pick.Message;
                var message = new MessageReply(MessageKind.Sent, m.Message, m.Hwnd, m.WParam, m.LParam, pick.SentId, sendId, 0, m.Time, 0);
                var data = new MessageReply.Data(pick.Payload ?? []);
                reply.Send(NtStatus.STATUS_SUCCESS, message.WithDataLengths(data), data.Part1);
                return;
            }
            case PickKind.SendResult:
                reply.Send(pick.Status, new MessageReply { Kind = MessageKind.SendResult, Result = pick.Result, Time = time });
                return;
            case PickKind.Input:
                reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply { Kind = MessageKind.Input, Time = time });
                return;
            default:
                reply.Send(pick.Status, new MessageReply { Kind = MessageKind.None });
                return;
        }
    }
}
