using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Win32k;

/// <summary>What SendMessage asks for, past the message itself.</summary>
internal readonly record struct SendOptions(bool Notify, bool Block, bool AbortIfHung, long Deadline);

internal sealed partial class UserSubsystem
{
    /// <summary>
    /// Starts a SendMessage. To a window of the caller's own thread it sends nothing
    /// (<paramref name="local"/>: the caller calls its procedure itself). Otherwise the message joins
    /// the receiver's sent list and, unless it is a notification, the caller's sends waiting for a
    /// result. SMTO_ABORTIFHUNG to a hung thread is ERROR_TIMEOUT at once.
    /// </summary>
    public NtStatus BeginSend(ThreadObject caller, long hwnd, uint message, long wParam, long lParam, byte[]? payload, in SendOptions options,
        out SentMessage? sent, out bool local)
    {
        sent = null;
        local = false;
        var wakeups = new Wakeups();
        NtStatus status;
        lock (_lock)
        {
            status = BeginSendUnsynchronized(caller, hwnd, message, wParam, lParam, payload, options, ref wakeups, out sent, out local);
        }
        wakeups.Wake(dispatcher);
        return status;
    }

    private NtStatus BeginSendUnsynchronized(ThreadObject caller, long hwnd, uint message, long wParam, long lParam, byte[]? payload, in SendOptions options,
        ref Wakeups wakeups, out SentMessage? sent, out bool local)
    {
        sent = null;
        local = false;
        if (QueueOfUnsynchronized(caller, ref wakeups) is not { } sender) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        if (WindowOfUnsynchronized(hwnd) is not { } window) return UserStatus.InvalidWindowHandle;
        var receiver = window.Queue;
        if (ReferenceEquals(receiver, sender))
        {
            local = true;
            return NtStatus.STATUS_SUCCESS;
        }
        if (options.AbortIfHung && receiver.IsHung) return UserStatus.Timeout;
        sent = new SentMessage
        {
            Id = ++_lastSentId,
            Receiver = receiver,
            Sender = options.Notify ? null : sender,
            Hwnd = hwnd,
            Message = message,
            WParam = wParam,
            LParam = lParam,
            Payload = payload,
            Deadline = options.Deadline,
            Blocking = options.Block,
        };
        receiver.Sent.Add(sent);
        _sentMessages++;
        if (!options.Notify) sender.Outstanding.Add(sent.Id, sent);
        NoteUnsynchronized(receiver, Abi.Win32k.QueueStatus.QS_SENDMESSAGE, ref wakeups);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>One of the queue's sends still waiting for its result (a continuation names it); null if none has that id.</summary>
    public SentMessage? OutstandingOf(MessageQueue queue, ulong id)
    {
        lock (_lock) return queue.Outstanding.TryGetValue(id, out var sent) ? sent : null;
    }

    /// <summary>
    /// The sender stops waiting (timeout, or its call ended otherwise). A message the receiver never
    /// took is withdrawn, as if never sent; one it is running finishes, and its result is dropped.
    /// </summary>
    public void CancelSend(MessageQueue queue, ulong id)
    {
        lock (_lock)
        {
            if (!queue.Outstanding.Remove(id, out var sent) || sent.Replied) return;
            if (sent.Receiver.Sent.Remove(sent)) _sentMessages--;
        }
    }

    /// <summary>
    /// ReplyMessage, or the window procedure's return: the result of the sent message
    /// <paramref name="id"/> the queue's thread is running goes to its sender. STATUS_NOT_FOUND if it
    /// has been answered already (or was never the thread's).
    /// </summary>
    public NtStatus Reply(MessageQueue queue, ulong id, long result)
    {
        var wakeups = new Wakeups();
        lock (_lock)
        {
            if (!queue.InProgress.Remove(id, out var sent)) return NtStatus.STATUS_NOT_FOUND;
            CompleteUnsynchronized(sent, result, NtStatus.STATUS_SUCCESS, ref wakeups);
        }
        wakeups.Wake(dispatcher);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>A sent message has its result: its sender, if still waiting for it, is woken.</summary>
    private static void CompleteUnsynchronized(SentMessage sent, long result, NtStatus status, ref Wakeups wakeups)
    {
        sent.Complete(result, status);
        if (sent.Sender is { Destroyed: false } sender && sender.Outstanding.ContainsKey(sent.Id)) NoteUnsynchronized(sender, QS_SMRESULT, ref wakeups);
    }
}
