using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

/// <summary>A thread waiting on a completion port (KeRemoveQueue) for up to MaxCount packets.</summary>
internal sealed class QueueWaiter(IoCompletionObject port, ThreadObject thread, int maxCount, bool alertable,
    Action<NtStatus, CompletionPacket[]> completion)
{
    public IoCompletionObject Port { get; } = port;
    public ThreadObject Thread { get; } = thread;
    public int MaxCount { get; } = maxCount;
    public bool Alertable { get; } = alertable;
    public Action<NtStatus, CompletionPacket[]> Completion { get; } = completion;
    public bool Done;
    public Timer? Timeout;
}

internal sealed partial class Dispatcher
{
    /// <summary>KeInsertQueue: FIFO packets; the most recently arrived waiter gets one first (LIFO release).</summary>
    public void InsertQueue(IoCompletionObject port, in CompletionPacket packet)
    {
        var copy = packet;
        List<(QueueWaiter, CompletionPacket[])> released = [];
        Locked(wakes =>
        {
            if (port.Closed) return;
            port.Packets.Enqueue(copy);
            port.SignalState = port.Packets.Count;
            ReleaseQueueWaitersUnsynchronized(port, released);
            WakeWaitersUnsynchronized(port, wakes);
        });
        foreach (var (waiter, packets) in released) waiter.Completion(NtStatus.STATUS_SUCCESS, packets);
    }

    private static void ReleaseQueueWaitersUnsynchronized(IoCompletionObject port, List<(QueueWaiter, CompletionPacket[])> released)
    {
        while (port.Packets.Count > 0 && port.Waiters.First is { } node && port.Active < port.Concurrency)
        {
            var waiter = node.Value;
            port.Waiters.RemoveFirst();
            released.Add((waiter, TakePacketsUnsynchronized(port, waiter.Thread, waiter.MaxCount)));
            EndQueueWaitUnsynchronized(waiter);
        }
    }

    private static CompletionPacket[] TakePacketsUnsynchronized(IoCompletionObject port, ThreadObject thread, int max)
    {
        var count = Math.Min(max, port.Packets.Count);
        var packets = new CompletionPacket[count];
        for (var i = 0; i < count; i++) packets[i] = port.Packets.Dequeue();
        port.SignalState = port.Packets.Count;
        AssociateUnsynchronized(port, thread);
        port.Active++;
        thread.QueueActive = true;
        return packets;
    }

    /// <summary>A thread belongs to one port at a time: joining another leaves the first (and its running count).</summary>
    private static void AssociateUnsynchronized(IoCompletionObject port, ThreadObject thread)
    {
        if (ReferenceEquals(thread.QueuePort, port)) return;
        DisassociateUnsynchronized(thread);
        port.Associated.Add(thread);
        thread.QueuePort = port;
    }

    private static void DisassociateUnsynchronized(ThreadObject thread)
    {
        if (thread.QueuePort is not { } old) return;
        old.Associated.Remove(thread);
        if (thread.QueueActive && old.Active > 0) old.Active--;
        thread.QueueActive = false;
        thread.QueuePort = null;
    }

    /// <summary>A thread that ends frees its running slot on its port, which may release a waiter.</summary>
    private static void LeaveQueueUnsynchronized(ThreadObject thread, List<(QueueWaiter, CompletionPacket[])> released)
    {
        var port = thread.QueuePort;
        DisassociateUnsynchronized(thread);
        if (port is not null) ReleaseQueueWaitersUnsynchronized(port, released);
    }

    private static void EndQueueWaitUnsynchronized(QueueWaiter waiter)
    {
        waiter.Done = true;
        waiter.Timeout?.Dispose();
        if (ReferenceEquals(waiter.Thread.CurrentQueueWait, waiter)) waiter.Thread.CurrentQueueWait = null;
    }

    /// <summary>
    /// KeRemoveQueue (NtRemoveIoCompletionEx): packets now, or a parked wait ended by a packet, the
    /// timeout, an APC (alertable), or the port's last handle closing (STATUS_ABANDONED_WAIT_0).
    /// </summary>
    public void RemoveQueue(IoCompletionObject port, ThreadObject thread, int maxCount, bool alertable, long? timeout,
        Action<NtStatus, CompletionPacket[]> completion)
    {
        var waiter = new QueueWaiter(port, thread, maxCount, alertable, completion);
        NtStatus? immediate = null;
        CompletionPacket[] packets = [];
        List<(QueueWaiter, CompletionPacket[])> released = [];
        lock (_lock)
        {
            // A thread belongs to one port: coming to another frees its slot on the first. Coming back
            // to its own port, it stops counting as running while it waits.
            var associated = ReferenceEquals(thread.QueuePort, port);
            if (!associated)
            {
                LeaveQueueUnsynchronized(thread, released);
                port.Associated.Add(thread);
                thread.QueuePort = port;
            }
            else if (thread.QueueActive)
            {
                if (port.Active > 0) port.Active--;
                thread.QueueActive = false;
            }
            if (port.Closed) immediate = NtStatus.STATUS_ABANDONED_WAIT_0;
            else if (alertable && !associated && thread.UserApcs.Count > 0) immediate = NtStatus.STATUS_USER_APC;
            else if (port.Packets.Count > 0 && port.Active < port.Concurrency)
            {
                packets = TakePacketsUnsynchronized(port, thread, maxCount);
                immediate = NtStatus.STATUS_SUCCESS;
            }
            else if (alertable && thread.UserApcs.Count > 0) immediate = NtStatus.STATUS_USER_APC;
            else if (timeout is { } t && DelayOf(t) <= TimeSpan.Zero) immediate = NtStatus.STATUS_TIMEOUT;
            else
            {
                port.Waiters.AddFirst(waiter);
                thread.CurrentQueueWait = waiter;
                if (timeout is { } due)
                    waiter.Timeout = new Timer(_ => EndQueueWait(waiter, NtStatus.STATUS_TIMEOUT), null, Clamp(DelayOf(due)), System.Threading.Timeout.InfiniteTimeSpan);
                // The slot this thread gave up may let a packet out to someone (LIFO: this waiter first).
                ReleaseQueueWaitersUnsynchronized(port, released);
            }
            // Back from KeRemoveQueue without packets, the thread runs again: it counts again.
            if (immediate is { } early && early != NtStatus.STATUS_SUCCESS) ResumeQueueUnsynchronized(thread);
        }
        if (immediate is { } status) completion(status, packets);
        foreach (var (other, otherPackets) in released) other.Completion(NtStatus.STATUS_SUCCESS, otherPackets);
    }

    /// <summary>The thread runs again on its port (taking back a running slot).</summary>
    private static void ResumeQueueUnsynchronized(ThreadObject thread)
    {
        if (thread.QueuePort is not { Closed: false } port || thread.QueueActive) return;
        port.Active++;
        thread.QueueActive = true;
    }

    /// <summary>A running thread blocks in another wait: its port may let another thread have a packet meanwhile.</summary>
    private static bool SuspendQueueUnsynchronized(ThreadObject thread, List<(QueueWaiter, CompletionPacket[])> released)
    {
        if (thread.QueuePort is not { } port || !thread.QueueActive) return false;
        if (port.Active > 0) port.Active--;
        thread.QueueActive = false;
        ReleaseQueueWaitersUnsynchronized(port, released);
        return true;
    }

    /// <summary>Ends a parked port wait without packets (timeout, APC, abandonment, cancellation).</summary>
    public void EndQueueWait(QueueWaiter waiter, NtStatus status)
    {
        lock (_lock)
        {
            if (waiter.Done) return;
            waiter.Port.Waiters.Remove(waiter);
            EndQueueWaitUnsynchronized(waiter);
            if (status != NtStatus.STATUS_THREAD_IS_TERMINATING) ResumeQueueUnsynchronized(waiter.Thread);
        }
        waiter.Completion(status, []);
    }

    /// <summary>The port's last handle closed: waiters are abandoned, packets dropped.</summary>
    public void CloseQueue(IoCompletionObject port)
    {
        QueueWaiter[] waiters;
        lock (_lock)
        {
            port.Closed = true;
            port.Packets.Clear();
            port.SignalState = 0;
            waiters = [.. port.Waiters];
            port.Waiters.Clear();
            foreach (var waiter in waiters) EndQueueWaitUnsynchronized(waiter);
        }
        foreach (var waiter in waiters) waiter.Completion(NtStatus.STATUS_ABANDONED_WAIT_0, []);
    }

    /// <summary>How many packets wait in the port (NtQueryIoCompletion's Depth).</summary>
    public int QueueDepth(IoCompletionObject port)
    {
        lock (_lock) return port.Packets.Count;
    }
}
