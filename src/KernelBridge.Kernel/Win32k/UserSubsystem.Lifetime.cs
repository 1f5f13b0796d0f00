using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Win32k;

internal sealed partial class UserSubsystem
{
    /// <summary>A thread ended (the reaper saw it): its queue and windows go, and whoever waits on them is answered.</summary>
    public void ThreadTerminating(ThreadObject thread)
    {
        var wakeups = new Wakeups();
        lock (_lock)
        {
            if (_queues.TryGetValue(thread.ThreadId, out var queue) && ReferenceEquals(queue.Thread, thread)) DestroyQueueUnsynchronized(queue, ref wakeups);
        }
        wakeups.Wake(dispatcher);
    }

    /// <summary>Process rundown: every queue of its threads goes, and its classes.</summary>
    public void ProcessTerminating(ProcessObject process)
    {
        var wakeups = new Wakeups();
        lock (_lock)
        {
            List<MessageQueue>? doomed = null;
            foreach (var queue in _queues.Values)
                if (ReferenceEquals(queue.Process, process)) (doomed ??= []).Add(queue);
            if (doomed is not null)
                foreach (var queue in doomed) DestroyQueueUnsynchronized(queue, ref wakeups);
            _classes.Remove(process);
        }
        wakeups.Wake(dispatcher);
    }

    /// <summary>
    /// The queue goes with its thread: its windows are destroyed, messages sent to it (waiting or in
    /// progress) answer their senders with 0 and a failure, its posted messages are dropped, and
    /// its own sends stop waiting (their receivers still run them; the results go nowhere).
    /// </summary>
    private void DestroyQueueUnsynchronized(MessageQueue queue, ref Wakeups wakeups)
    {
        queue.Destroyed = true;
        _queues.Remove(queue.ThreadId);
        while (queue.Windows.Count > 0) DestroyWindowUnsynchronized(queue.Windows[^1], ref wakeups);
        foreach (var sent in queue.Sent)
        {
            CompleteUnsynchronized(sent, 0, UserStatus.ReceiverGone, ref wakeups);
            ReleaseByReceiverUnsynchronized(sent);
        }
        _sentMessages -= queue.Sent.Count;
        queue.Sent.Clear();
        foreach (var sent in queue.InProgress.Values)
        {
            CompleteUnsynchronized(sent, 0, UserStatus.ReceiverGone, ref wakeups);
            ReleaseByReceiverUnsynchronized(sent);
        }
        queue.InProgress.Clear();
        foreach (var sent in queue.Outstanding.Values) ReleaseBySenderUnsynchronized(sent);
        queue.Outstanding.Clear();
        _postedMessages -= queue.Posted.Count;
        queue.Posted.Clear();
        queue.QuitPosted = false;
    }
}
