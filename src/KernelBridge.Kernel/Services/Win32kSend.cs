using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Win32k;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// SendMessage, SendMessageTimeout and SendNotifyMessage. The sender's call parks on its own queue
/// until the result comes; a message sent to the sender meanwhile ends the call with Kind Sent (unless
/// SMTO_BLOCK), the sender's library runs it and goes on waiting with NtUserContinueSendMessage.
/// That is how a thread blocked in SendMessage still answers the messages sent to it (A to B to A).
/// </summary>
internal sealed partial class SystemServices
{
    public void NtUserSendMessage(in SyscallContext context, in NtUserSendMessageRequest request, NtUserSendMessageRequest.Data data)
    {
        var notify = (request.Flags & NtUserSendMessageRequest.Notify) != 0;
        var flags = request.Flags & ~NtUserSendMessageRequest.Notify;
        if (data.Payload.Length > UserLimits.MaxCopyDataBytes)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new MessageReply());
            return;
        }
        var deadline = request.HasTimeout != 0 ? Ke.Timeouts.DeadlineOf(-(long)request.TimeoutMilliseconds * 10_000) : Ke.Timeouts.Never;
        var options = new SendOptions(notify, (flags & SendMessageTimeoutFlags.SMTO_BLOCK) != 0, (flags & SendMessageTimeoutFlags.SMTO_ABORTIFHUNG) != 0, deadline);
        var payload = data.Payload.IsEmpty ? null : data.Payload.ToArray();
        var status = User.BeginSend(context.Thread, request.Hwnd, request.Message, request.WParam, request.LParam, payload, options, out var sent, out var local);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new MessageReply());
            return;
        }
        if (local)
        {
            context.Reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply { Kind = MessageKind.Local });
            return;
        }
        if (notify)
        {
            context.Reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply { Kind = MessageKind.SendResult, Result = 1 });
            return;
        }
        if (User.QueueOf(context.Thread) is not { } queue)
        {
            context.Reply.Send(NtStatus.STATUS_PROCESS_IS_TERMINATING, new MessageReply());
            return;
        }
        WaitForSend(context, queue, sent);
    }

    public void NtUserContinueSendMessage(in SyscallContext context, in NtUserContinueSendMessageRequest request)
    {
        if (CallerQueue(context, request.ReplyId, request.ReplyResult) is not { } queue) return;
        if (User.OutstandingOf(queue, request.SendId) is not { } sent)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new MessageReply());
            return;
        }
        WaitForSend(context, queue, sent);
    }

    private void WaitForSend(in SyscallContext context, MessageQueue queue, OutstandingSend sent)
    {
        var filter = new MessageFilter { SendId = sent.Id, TakesSent = !sent.Blocking };
        MessageWaits.Allocate().Start(context, queue, filter, waitAll: false, alertable: false, sent.Deadline);
    }
}
