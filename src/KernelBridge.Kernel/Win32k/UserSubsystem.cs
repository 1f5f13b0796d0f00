using KernelBridge.Kernel.Ps;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// The message mechanism (the USER half of win32k): thread message queues keyed by thread id,
/// windows keyed by handle, window classes per process, and the atom table. One lock guards it all,
/// as win32k's user critical section does. Waiting is not done here: a caller parks on its queue's
/// <see cref="MessageQueue.WakeEvent"/> with the dispatcher; whoever changes a queue a waiter cares
/// about sets that event after leaving the lock (never calling the dispatcher under it).
/// </summary>
internal sealed partial class UserSubsystem(Ke.Dispatcher dispatcher)
{
    /// <summary>QS_SMRESULT (Wine's): a result for one of the thread's sends arrived.</summary>
    public const uint QS_SMRESULT = 0x8000;

    private const uint PostedBits = Abi.Win32k.QueueStatus.QS_POSTMESSAGE | Abi.Win32k.QueueStatus.QS_ALLPOSTMESSAGE;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, MessageQueue> _queues = [];
    private ulong _lastSentId;
    private int _postedMessages;
    private int _sentMessages;

    /// <summary>Queues to wake once the lock is left.</summary>
    private struct Wakeups
    {
        private MessageQueue? _first;
        private List<MessageQueue>? _more;

        public void Add(MessageQueue queue)
        {
            if (_first is null) _first = queue;
            else if (!ReferenceEquals(_first, queue)) (_more ??= []).Add(queue);
        }

        public readonly void Wake(Ke.Dispatcher dispatcher)
        {
            if (_first is null) return;
            dispatcher.SetEvent(_first.WakeEvent);
            if (_more is null) return;
            foreach (var queue in _more) dispatcher.SetEvent(queue.WakeEvent);
        }
    }

    /// <summary>New <paramref name="bits"/> in <paramref name="queue"/>: remembered as new, and its parked call woken if it waits for them.</summary>
    private static void NoteUnsynchronized(MessageQueue queue, uint bits, ref Wakeups wakeups)
    {
        queue.ChangedBits |= bits & ~QS_SMRESULT;
        if ((queue.WaiterMask & bits) != 0) wakeups.Add(queue);
    }

    /// <summary>The calling thread's queue, made on its first User32 call; null once its process is going.</summary>
    public MessageQueue? QueueOf(ThreadObject thread)
    {
        var wakeups = new Wakeups();
        MessageQueue? queue;
        lock (_lock) queue = QueueOfUnsynchronized(thread, ref wakeups);
        wakeups.Wake(dispatcher);
        return queue;
    }

    private MessageQueue? QueueOfUnsynchronized(ThreadObject thread, ref Wakeups wakeups)
    {
        if (_queues.TryGetValue(thread.ThreadId, out var queue) && ReferenceEquals(queue.Thread, thread)) return queue;
        if (thread.Process.Terminating) return null;
        // A queue left by an earlier thread with the same id (not reaped yet) goes first.
        if (queue is not null) DestroyQueueUnsynchronized(queue, ref wakeups);
        queue = new MessageQueue(thread);
        _queues.Add(thread.ThreadId, queue);
        return queue;
    }

    private static uint Now => unchecked((uint)Environment.TickCount);

    // ---- Posting ----

    /// <summary>PostThreadMessage: ERROR_INVALID_THREAD_ID for a thread with no queue, ERROR_NOT_ENOUGH_QUOTA when its queue is full.</summary>
    public NtStatus PostThreadMessage(ThreadObject caller, int threadId, uint message, long wParam, long lParam)
    {
        var wakeups = new Wakeups();
        NtStatus status;
        lock (_lock)
        {
            if (QueueOfUnsynchronized(caller, ref wakeups) is null) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
            status = _queues.TryGetValue(threadId, out var target) && SameUser(caller, target)
                ? PostUnsynchronized(target, new PostedMessage(0, message, wParam, lParam, Now), ref wakeups)
                : UserStatus.InvalidThreadId;
        }
        wakeups.Wake(dispatcher);
        return status;
    }

    /// <summary>PostMessage: to the window's thread; a null window posts to the caller's own thread.</summary>
    public NtStatus PostMessage(ThreadObject caller, long hwnd, uint message, long wParam, long lParam)
    {
        var wakeups = new Wakeups();
        NtStatus status;
        lock (_lock)
        {
            var own = QueueOfUnsynchronized(caller, ref wakeups);
            if (own is null) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
            var target = hwnd == 0 ? own : WindowOfUnsynchronized(hwnd)?.Queue;
            if (target is not null && !SameUser(caller, target)) target = null;
            status = target is null ? UserStatus.InvalidWindowHandle : PostUnsynchronized(target, new PostedMessage(hwnd, message, wParam, lParam, Now), ref wakeups);
        }
        wakeups.Wake(dispatcher);
        return status;
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may post or send to <paramref name="target"/>'s queue: only
    /// within one user, as separate sessions keep Windows users' windows apart; another user's
    /// threads and windows look as if they did not exist.
    /// </summary>
    private static bool SameUser(ThreadObject caller, MessageQueue target) => caller.Process.Token.User.Equals(target.Process.Token.User);

    private NtStatus PostUnsynchronized(MessageQueue target, in PostedMessage message, ref Wakeups wakeups)
    {
        if (target.Posted.Count >= PostMessageLimit) return UserStatus.NotEnoughQuota;
        target.Posted.Add(message);
        _postedMessages++;
        NoteUnsynchronized(target, PostedBits, ref wakeups);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>PostQuitMessage: WM_QUIT comes once nothing else is posted.</summary>
    public NtStatus PostQuitMessage(ThreadObject caller, int exitCode)
    {
        var wakeups = new Wakeups();
        lock (_lock)
        {
            if (QueueOfUnsynchronized(caller, ref wakeups) is not { } queue) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
            queue.QuitPosted = true;
            queue.QuitCode = exitCode;
            NoteUnsynchronized(queue, PostedBits, ref wakeups);
        }
        wakeups.Wake(dispatcher);
        return NtStatus.STATUS_SUCCESS;
    }

    // ---- Looking ----

    /// <summary>
    /// Takes what <paramref name="filter"/> asks for, in Windows' order: the result of the awaited
    /// send, a sent message to run, input for a wait, a posted message, WM_QUIT. With
    /// <paramref name="park"/> and nothing found, the queue records what should wake the caller.
    /// </summary>
    public MessagePick Pick(MessageQueue queue, in MessageFilter filter, bool park)
    {
        lock (_lock)
        {
            if (queue.Destroyed) return MessagePick.Failed(NtStatus.STATUS_THREAD_IS_TERMINATING);
            queue.LastPump = Stopwatch.GetTimestamp();
            if (filter.SendId != 0)
            {
                if (!queue.Outstanding.TryGetValue(filter.SendId, out var send)) return MessagePick.Failed(NtStatus.STATUS_INVALID_PARAMETER);
                if (send.Replied)
                {
                    queue.Outstanding.Remove(send.Id);
                    var result = new MessagePick(PickKind.SendResult, send.Status, default, send.Id, null, send.Result);
                    ReleaseBySenderUnsynchronized(send);
                    return result;
                }
            }
            if (filter.TakesSent && queue.Sent.Count > 0 && filter.Processes(Abi.Win32k.QueueStatus.QS_SENDMESSAGE))
            {
                var sent = queue.Sent[0];
                queue.Sent.RemoveAt(0);
                _sentMessages--;
                var pick = new MessagePick(PickKind.Sent, NtStatus.STATUS_SUCCESS, new PostedMessage(sent.Hwnd, sent.Message, sent.WParam, sent.LParam, Now),
                    sent.Id, sent.Payload, 0);
                // A notification has nobody to answer: the receiver is done with it once taken.
                if (sent.Sender is not null) queue.InProgress.Add(sent.Id, sent);
                else ReleaseByReceiverUnsynchronized(sent);
                return pick;
            }
            if (filter.WaitsForInput && ((filter.InputAvailable ? queue.WakeBits : queue.ChangedBits) & filter.WakeMask) != 0)
                return new MessagePick(PickKind.Input, NtStatus.STATUS_SUCCESS, default, 0, null, 0);
            if (filter.TakesPosted)
            {
                // GetMessage and PeekMessage start a new "since the last look" (GetQueueStatus' low word).
                queue.ChangedBits = 0;
                if (filter.Processes(Abi.Win32k.QueueStatus.QS_POSTMESSAGE) && TakePostedUnsynchronized(queue, filter) is { } pick) return pick;
            }
            if (park)
            {
                queue.WaiterMask = QS_SMRESULT | (filter.TakesSent ? Abi.Win32k.QueueStatus.QS_SENDMESSAGE : 0)
                    | (filter.TakesPosted ? PostedBits : 0) | (filter.WaitsForInput ? filter.WakeMask : 0);
                queue.InMessageWait = filter.TakesSent;
            }
            return MessagePick.Nothing;
        }
    }

    private MessagePick? TakePostedUnsynchronized(MessageQueue queue, in MessageFilter filter)
    {
        var remove = (filter.PeekFlags & Abi.Win32k.PeekMessageFlags.PM_REMOVE) != 0;
        for (var i = 0; i < queue.Posted.Count; i++)
        {
            if (!filter.Matches(queue.Posted[i])) continue;
            var message = queue.Posted[i];
            if (remove)
            {
                queue.Posted.RemoveAt(i);
                _postedMessages--;
            }
            return new MessagePick(PickKind.Posted, NtStatus.STATUS_SUCCESS, message, 0, null, 0);
        }
        // WM_QUIT passes any filter, once the queue holds nothing else the filter takes.
        if (!queue.QuitPosted) return null;
        if (remove) queue.QuitPosted = false;
        return new MessagePick(PickKind.Quit, NtStatus.STATUS_SUCCESS, new PostedMessage(0, Abi.Win32k.WindowMessages.WM_QUIT, queue.QuitCode, 0, Now), 0, null, 0);
    }

    /// <summary>The parked call of the queue's thread is over: nothing wakes it now.</summary>
    public void EndWait(MessageQueue queue)
    {
        lock (_lock)
        {
            queue.WaiterMask = 0;
            queue.InMessageWait = false;
            queue.LastPump = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>GetQueueStatus: MAKELONG(new kinds, kinds present), both masked by <paramref name="flags"/>; the new ones are then old.</summary>
    public NtStatus GetQueueStatus(ThreadObject caller, uint flags, out uint status)
    {
        status = 0;
        if ((flags & ~Abi.Win32k.QueueStatus.ValidMask) != 0) return UserStatus.InvalidFlags;
        if (QueueOf(caller) is not { } queue) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        lock (_lock)
        {
            status = ((queue.WakeBits & flags) << 16) | (queue.ChangedBits & flags);
            queue.ChangedBits &= ~flags;
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>The books: queues, windows, classes, sent messages not yet taken, posted messages, atoms.</summary>
    public (int Queues, int Windows, int Classes, int Sent, int Posted, int Atoms) Counts()
    {
        lock (_lock)
        {
            var classes = 0;
            foreach (var table in _classes.Values) classes += table.Count;
            return (_queues.Count, _windows.Count, classes, _sentMessages, _postedMessages, _atoms.Count);
        }
    }
}
