using System.Diagnostics;
using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel.Ke;

internal sealed partial class Dispatcher
{
    private readonly LookasideList<KQueueWait> _queueWaits;

    private KQueueWait NewQueueWait() => WithClock(new KQueueWait());

    private void Recycle(KQueueWait wait)
    {
        wait.Completion = null;
        wait.Port = null!;
        wait.Thread = null!;
        wait.PacketCount = 0;
        _queueWaits.Free(wait);
    }

    /// <summary>KeInsertQueue: FIFO packets; the most recently arrived waiter gets one first (LIFO release).</summary>
    public void InsertQueue(KQueue port, in KQueuePacket packet)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            if (port.Closed)
            {
                packet.Charge?.PacketRemoved();
                return;
            }
            port.Packets.Enqueue(packet);
            port.SignalState = port.Packets.Count;
            ReleaseQueueWaitersUnsynchronized(port, ref wakes);
            WakeWaitersUnsynchronized(port, ref wakes);
        }
        Complete(wakes);
    }

    private static void ReleaseQueueWaitersUnsynchronized(KQueue port, ref Wakes wakes)
    {
        while (port.Packets.Count > 0 && port.FirstWaiter is { } waiter && port.Active < port.Concurrency)
        {
            port.RemoveWaiter(waiter);
            TakePacketsUnsynchronized(port, waiter);
            EndQueueWaitUnsynchronized(waiter, NtStatus.STATUS_SUCCESS, resume: false, ref wakes);
        }
    }

    /// <summary>Hands up to MaxCount packets to the wait; its thread now runs for the port.</summary>
    private static void TakePacketsUnsynchronized(KQueue port, KQueueWait wait)
    {
        Debug.Assert(port.Packets.Count > 0 && port.Active < port.Concurrency, "packets go out only when there are some and a slot is free");
        var count = Math.Min(wait.MaxCount, port.Packets.Count);
        var buffer = wait.PacketBuffer(count);
        for (var i = 0; i < count; i++)
        {
            buffer[i] = port.Packets.Dequeue();
            buffer[i].Charge?.PacketRemoved();
        }
        wait.PacketCount = count;
        port.SignalState = port.Packets.Count;
        AssociateUnsynchronized(port, wait.Thread);
        port.Active++;
        wait.Thread.QueueActive = true;
    }

    /// <summary>A thread belongs to one port at a time: joining another leaves the first (and its running count).</summary>
    private static void AssociateUnsynchronized(KQueue port, KThread thread)
    {
        if (ReferenceEquals(thread.QueuePort, port)) return;
        DisassociateUnsynchronized(thread);
        port.Associated.Add(thread);
        thread.QueuePort = port;
    }

    private static void DisassociateUnsynchronized(KThread thread)
    {
        if (thread.QueuePort is not { } old) return;
        old.Associated.Remove(thread);
        if (thread.QueueActive && old.Active > 0) old.Active--;
        thread.QueueActive = false;
        thread.QueuePort = null;
    }

    /// <summary>A thread that ends frees its running slot on its port, which may release a waiter.</summary>
    private static void LeaveQueueUnsynchronized(KThread thread, ref Wakes wakes)
    {
        var port = thread.QueuePort;
        DisassociateUnsynchronized(thread);
        if (port is not null) ReleaseQueueWaitersUnsynchronized(port, ref wakes);
    }

    /// <summary>Ends a port wait (caller holds the lock and has taken it off the port's list); completion queued.</summary>
    private static void EndQueueWaitUnsynchronized(KQueueWait wait, NtStatus status, bool resume, ref Wakes wakes)
    {
        wait.Done = true;
        wait.Generation++;
        Timeouts.Disarm(wait.Clock);
        if (ReferenceEquals(wait.Thread.CurrentQueueWait, wait)) wait.Thread.CurrentQueueWait = null;
        if (resume) ResumeQueueUnsynchronized(wait.Thread);
        wakes.Add(wait, status);
    }

    /// <summary>
    /// KeRemoveQueue (NtRemoveIoCompletionEx): packets now, or a parked wait ended by a packet, the
    /// deadline, an APC (alertable), or the port's last handle closing (STATUS_ABANDONED_WAIT_0).
    /// </summary>
    public void RemoveQueue(KQueue port, KThread thread, int maxCount, bool alertable, long deadline, IKQueueWaitCompletion completion)
    {
        var wait = _queueWaits.Allocate();
        wait.Port = port;
        wait.Thread = thread;
        wait.MaxCount = maxCount;
        wait.Alertable = alertable;
        wait.Completion = completion;
        wait.Deadline = deadline;
        wait.PacketCount = 0;
        wait.Done = false;

        NtStatus? immediate = null;
        var wakes = new Wakes();
        lock (_lock)
        {
            // A thread belongs to one port: coming to another frees its slot on the first. Coming back
            // to its own port, it stops counting as running while it waits.
            var associated = ReferenceEquals(thread.QueuePort, port);
            if (!associated)
            {
                LeaveQueueUnsynchronized(thread, ref wakes);
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
                TakePacketsUnsynchronized(port, wait);
                immediate = NtStatus.STATUS_SUCCESS;
            }
            else if (alertable && thread.UserApcs.Count > 0) immediate = NtStatus.STATUS_USER_APC;
            else if (Timeouts.HasPassed(deadline)) immediate = NtStatus.STATUS_TIMEOUT;
            else
            {
                port.PushWaiter(wait);
                thread.CurrentQueueWait = wait;
                if (deadline != Timeouts.Never) Timeouts.Arm(wait.Clock!, deadline);
                // The slot this thread gave up may let a packet out to someone (LIFO: this waiter first).
                ReleaseQueueWaitersUnsynchronized(port, ref wakes);
            }
            if (immediate is { } early)
            {
                wait.Done = true;
                wait.Generation++;
                // Back from KeRemoveQueue without packets, the thread runs again: it counts again.
                if (early != NtStatus.STATUS_SUCCESS) ResumeQueueUnsynchronized(thread);
            }
        }
        if (immediate is { } status)
        {
            completion.QueueWaitEnded(status, wait.TakenPackets);
            Recycle(wait);
        }
        Complete(wakes);
    }

    /// <summary>The thread runs again on its port (taking back a running slot).</summary>
    private static void ResumeQueueUnsynchronized(KThread thread)
    {
        if (thread.QueuePort is not { Closed: false } port || thread.QueueActive) return;
        port.Active++;
        thread.QueueActive = true;
    }

    /// <summary>A running thread blocks in another wait: its port may let another thread have a packet meanwhile.</summary>
    private static bool SuspendQueueUnsynchronized(KThread thread, ref Wakes wakes)
    {
        if (thread.QueuePort is not { } port || !thread.QueueActive) return false;
        if (port.Active > 0) port.Active--;
        thread.QueueActive = false;
        ReleaseQueueWaitersUnsynchronized(port, ref wakes);
        return true;
    }

    /// <summary>The port's last handle closed: waiters are abandoned, packets dropped.</summary>
    public void CloseQueue(KQueue port)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            port.Closed = true;
            foreach (var packet in port.Packets) packet.Charge?.PacketRemoved();
            port.Packets.Clear();
            port.SignalState = 0;
            while (port.FirstWaiter is { } waiter)
            {
                port.RemoveWaiter(waiter);
                EndQueueWaitUnsynchronized(waiter, NtStatus.STATUS_ABANDONED_WAIT_0, resume: false, ref wakes);
            }
        }
        Complete(wakes);
    }

    /// <summary>How many packets wait in the port (NtQueryIoCompletion's Depth).</summary>
    public int QueueDepth(KQueue port)
    {
        lock (_lock) return port.Packets.Count;
    }
}
