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
    public NtStatus BeginSend(ThreadObject caller, long hwnd, uint messageNumber, long wParam, long lParam, byte[]? payload, in SendOptions options,
        out OutstandingSend sent, out bool local)
    {
        sent = default;
        local = false;
        var wakeups = new Wakeups();
        NtStatus status;
        lock (_lock)
        {
            status = BeginSendUnsynchronized(caller, hwnd, messageNumber, wParam, lParam, payload, options, ref wakeups, out sent, out local);
        }
        wakeups.Wake(dispatcher);
        return status;
    }

    private NtStatus BeginSendUnsynchronized(ThreadObject caller, long hwnd, uint messageNumber, long wParam, long lParam, byte[]? payload, in SendOptions options,
        ref Wakeups wakeups, out OutstandingSend sent, out bool local)
    {
        sent = default;
        local = false;
        if (QueueOfUnsynchronized(caller, ref wakeups) is not { } sender) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        if (WindowOfUnsynchronized(hwnd) is not { } window || !SameUser(caller, window.Queue)) return UserStatus.InvalidWindowHandle;
        var receiver = window.Queue;
        if (ReferenceEquals(receiver, sender))
        {
            local = true;
            return NtStatus.STATUS_SUCCESS;
        }
        if (options.AbortIfHung && receiver.IsHung) return UserStatus.Timeout;
        var message = _freeSent.Count > 0 ? _freeSent.Pop() : new SentMessage();
        message.Prepare(++_lastSentId, receiver, options.Notify ? null : sender, hwnd, messageNumber, wParam, lParam, payload, options.Deadline, options.Block);
        receiver.Sent.Add(message);
        _sentMessages++;
        if (!options.Notify) sender.Outstanding.Add(message.Id, message);
        sent = new OutstandingSend(message.Id, message.Blocking, message.Deadline);
        NoteUnsynchronized(receiver, Abi.Win32k.QueueStatus.QS_SENDMESSAGE, ref wakeups);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>One of the queue's sends still waiting for its result (a continuation names it); null if none has that id.</summary>
    public OutstandingSend? OutstandingOf(MessageQueue queue, ulong id)
    {
        lock (_lock) return queue.Outstanding.TryGetValue(id, out var sent) ? new OutstandingSend(sent.Id, sent.Blocking, sent.Deadline) : null;
    }

    /// <summary>
    /// The sender stops waiting (timeout, or its call ended otherwise). A message the receiver never
    /// took is withdrawn, as if never sent; one it is running finishes, and its result is dropped.
    /// </summary>
    public void CancelSend(MessageQueue queue, ulong id)
    {
        lock (_lock)
        {
            if (!queue.Outstanding.Remove(id, out var sent)) return;
            if (!sent.Replied && sent.Receiver.Sent.Remove(sent))
            {
                _sentMessages--;
                ReleaseByReceiverUnsynchronized(sent);
            }
            ReleaseBySenderUnsynchronized(sent);
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
            ReleaseByReceiverUnsynchronized(sent);
        }
        wakeups.Wake(dispatcher);
        return NtStatus.STATUS_SUCCESS;
    }

    private readonly Stack<SentMessage> _freeSent = new();

    /// <summary>The receiver is done with the message; once the sender is too, it goes back to the pool.</summary>
    private void ReleaseByReceiverUnsynchronized(SentMessage sent)
    {
        sent.HeldByReceiver = false;
        if (!sent.HeldBySender) Recycle(sent);
    }

    /// <summary>The sender is done with the message (it has the result, or stopped waiting); once the receiver is too, it goes back to the pool.</summary>
    private void ReleaseBySenderUnsynchronized(SentMessage sent)
    {
        sent.HeldBySender = false;
        if (!sent.HeldByReceiver) Recycle(sent);
    }

    private void Recycle(SentMessage sent)
    {
        sent.Clear();
        if (_freeSent.Count < 1024) _freeSent.Push(sent);
    }

    /// <summary>A sent message has its result: its sender, if still waiting for it, is woken.</summary>
    private static void CompleteUnsynchronized(SentMessage sent, long result, NtStatus status, ref Wakeups wakeups)
    {
        sent.Complete(result, status);
        if (sent.Sender is { Destroyed: false } sender && sender.Outstanding.ContainsKey(sent.Id)) NoteUnsynchronized(sender, QS_SMRESULT, ref wakeups);
    }
}
