using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// A completion packet (FILE_IO_COMPLETION_INFORMATION): key, context and the IOSB; and, for a
/// packet queued by hand, who it is charged to (told when it leaves the port).
/// </summary>
internal readonly record struct KQueuePacket(ulong KeyContext, ulong ApcContext, NtStatus Status, long Information, IQueuePacketCharge? Charge = null);

/// <summary>Whom a packet queued by hand is charged to (a process's quota): told once, when the packet leaves its port.</summary>
internal interface IQueuePacketCharge
{
    void PacketRemoved();
}

/// <summary>
/// KQUEUE, the body of an I/O completion port: packets in FIFO order, waiting threads released
/// LIFO, at most <see cref="Concurrency"/> associated threads running at once. Its signal state is
/// the number of queued packets. Guarded by the dispatcher lock.
/// </summary>
internal sealed class KQueue(int concurrency) : DispatcherObject(ObjectTypes.IoCompletion)
{
    internal int Concurrency { get; } = concurrency;
    internal readonly Queue<KQueuePacket> Packets = new();

    /// <summary>Threads parked in KeRemoveQueue, most recent first.</summary>
    internal KQueueWait? FirstWaiter;
    internal readonly HashSet<KThread> Associated = [];
    internal int Active;
    internal bool Closed;

    internal void PushWaiter(KQueueWait wait)
    {
        System.Diagnostics.Debug.Assert(!wait.Linked && !wait.Done, "a port wait is parked once, while it is going");
        wait.Next = FirstWaiter;
        wait.Previous = null;
        if (FirstWaiter is not null) FirstWaiter.Previous = wait;
        FirstWaiter = wait;
        wait.Linked = true;
    }

    internal void RemoveWaiter(KQueueWait wait)
    {
        if (!wait.Linked) return;
        if (wait.Previous is null) FirstWaiter = wait.Next;
        else wait.Previous.Next = wait.Next;
        if (wait.Next is not null) wait.Next.Previous = wait.Previous;
        wait.Next = wait.Previous = null;
        wait.Linked = false;
    }
}

/// <summary>What hears that a completion-port wait ended: its status and the packets it took (valid during the call).</summary>
internal interface IKQueueWaitCompletion
{
    void QueueWaitEnded(NtStatus status, ReadOnlySpan<KQueuePacket> packets);
}

/// <summary>A thread waiting on a completion port (KeRemoveQueue) for up to MaxCount packets. Pooled by the dispatcher.</summary>
internal sealed class KQueueWait : KTimedWait
{
    private KQueuePacket[] _packets = [];

    internal KQueue Port = null!;
    internal KThread Thread = null!;
    internal int MaxCount;
    internal bool Alertable;
    internal IKQueueWaitCompletion? Completion;

    // On the port's waiter list.
    internal KQueueWait? Next;
    internal KQueueWait? Previous;
    internal bool Linked;

    // Ended under the lock, completed after it.
    internal KQueueWait? NextWake;
    internal NtStatus WakeStatus;
    internal int PacketCount;

    internal ReadOnlySpan<KQueuePacket> TakenPackets => _packets.AsSpan(0, PacketCount);

    /// <summary>Room for the packets a release hands over (kept for the next use).</summary>
    internal Span<KQueuePacket> PacketBuffer(int count)
    {
        if (_packets.Length < count) _packets = new KQueuePacket[Math.Max(count, 2 * _packets.Length)];
        return _packets.AsSpan(0, count);
    }
}
