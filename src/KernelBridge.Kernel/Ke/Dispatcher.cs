using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// The dispatcher: signal states, waits and their satisfaction, all under one lock (as
/// KiDispatcherLock), which is what makes wait-all atomic. Waits that end under the lock are
/// chained through themselves and completed after it is released. Nothing here blocks a thread
/// except a driver's own KeWaitFor*, and nothing allocates per operation once its pools have grown.
/// </summary>
internal sealed partial class Dispatcher
{
    private readonly Lock _lock = new();

    public Dispatcher()
    {
        _waits = new LookasideList<KWait>(NewWait);
        _queueWaits = new LookasideList<KQueueWait>(NewQueueWait);
    }

    /// <summary>Waits ended under the lock, completed in order after it (a completion may call back in).</summary>
    private ref struct Wakes
    {
        private KWait? _last;
        private KQueueWait? _queueLast;

        public KWait? First { get; private set; }
        public KQueueWait? QueueFirst { get; private set; }

        public void Add(KWait wait, NtStatus status)
        {
            wait.WakeStatus = status;
            wait.NextWake = null;
            if (_last is null) First = wait;
            else _last.NextWake = wait;
            _last = wait;
        }

        public void Add(KQueueWait wait, NtStatus status)
        {
            wait.WakeStatus = status;
            wait.NextWake = null;
            if (_queueLast is null) QueueFirst = wait;
            else _queueLast.NextWake = wait;
            _queueLast = wait;
        }
    }

    /// <summary>Runs the completions of the waits that ended (outside the lock), then recycles them.</summary>
    private void Complete(in Wakes wakes)
    {
        for (var wait = wakes.First; wait is not null;)
        {
            var next = wait.NextWake;
            var completion = wait.Completion!;
            var status = wait.WakeStatus;
            Recycle(wait);
            completion.WaitEnded(status);
            wait = next;
        }
        for (var wait = wakes.QueueFirst; wait is not null;)
        {
            var next = wait.NextWake;
            wait.Completion!.QueueWaitEnded(wait.WakeStatus, wait.TakenPackets);
            Recycle(wait);
            wait = next;
        }
    }

    // ---- Signal state ----

    private static bool IsSignaledFor(DispatcherObject obj, KThread owner) =>
        obj is KMutant mutant ? mutant.SignalState > 0 || ReferenceEquals(mutant.OwnerThread, owner) : obj.SignalState > 0;

    /// <summary>A satisfied wait's side effect on the object; true if it took an abandoned mutant.</summary>
    private static bool Consume(DispatcherObject obj, KThread owner)
    {
        switch (obj)
        {
            case KEvent { Type: EventType.SynchronizationEvent }:
            case KTimer { Type: TimerType.SynchronizationTimer }:
                obj.SignalState = 0;
                return false;
            case KSemaphore:
                obj.SignalState--;
                return false;
            case KMutant mutant:
                var abandoned = mutant.Abandoned;
                if (!ReferenceEquals(mutant.OwnerThread, owner))
                {
                    mutant.OwnerThread = owner;
                    mutant.Abandoned = false;
                    owner.OwnedMutants.Add(mutant);
                }
                mutant.SignalState--;
                return abandoned;
            default:
                return false;
        }
    }

    /// <summary>Tries to satisfy a wait now. Returns its status, or null if it must go on waiting.</summary>
    private static NtStatus? TrySatisfy(KWait wait)
    {
        if (wait.WaitAll)
        {
            for (var i = 0; i < wait.Count; i++)
                if (!IsSignaledFor(wait.Block(i).Object, wait.Owner)) return null;
            var abandoned = false;
            for (var i = 0; i < wait.Count; i++) abandoned |= Consume(wait.Block(i).Object, wait.Owner);
            return abandoned ? NtStatus.STATUS_ABANDONED_WAIT_0 : NtStatus.STATUS_WAIT_0;
        }
        for (var i = 0; i < wait.Count; i++)
        {
            var obj = wait.Block(i).Object;
            if (!IsSignaledFor(obj, wait.Owner)) continue;
            var abandoned = Consume(obj, wait.Owner);
            return new NtStatus((abandoned ? NtStatus.STATUS_ABANDONED_WAIT_0.Value : 0) + i);
        }
        return null;
    }

    /// <summary>After an object became signalled: satisfy whoever can be, in arrival order.</summary>
    private static void WakeWaitersUnsynchronized(DispatcherObject obj, ref Wakes wakes)
    {
        var block = obj.WaitList.First;
        while (block is not null && obj.SignalState > 0)
        {
            if (TrySatisfy(block.Wait) is not { } status)
            {
                block = block.Next;
                continue;
            }
            EndWaitUnsynchronized(block.Wait, status, ref wakes);
            block = obj.WaitList.First;
        }
    }

    // ---- Events ----

    /// <summary>KeSetEvent: the previous state.</summary>
    public int SetEvent(KEvent kevent)
    {
        var wakes = new Wakes();
        int previous;
        lock (_lock)
        {
            previous = kevent.SignalState;
            kevent.SignalState = 1;
            if (!kevent.WaitList.IsEmpty) WakeWaitersUnsynchronized(kevent, ref wakes);
        }
        Complete(wakes);
        return previous;
    }

    public int ResetEvent(KEvent kevent)
    {
        lock (_lock)
        {
            var previous = kevent.SignalState;
            kevent.SignalState = 0;
            return previous;
        }
    }

    /// <summary>PulseEvent: releases the current waiters (all, or one for a synchronization event), leaves it reset.</summary>
    public int PulseEvent(KEvent kevent)
    {
        var wakes = new Wakes();
        int previous;
        lock (_lock)
        {
            previous = kevent.SignalState;
            kevent.SignalState = 1;
            WakeWaitersUnsynchronized(kevent, ref wakes);
            kevent.SignalState = 0;
        }
        Complete(wakes);
        return previous;
    }

    // ---- Semaphores ----

    /// <summary>Returns the previous count, or null if the release would pass the limit (nothing changes then).</summary>
    public int? ReleaseSemaphore(KSemaphore semaphore, int adjustment)
    {
        var wakes = new Wakes();
        int previous;
        lock (_lock)
        {
            previous = semaphore.SignalState;
            if (adjustment <= 0 || (long)previous + adjustment > semaphore.Limit) return null;
            semaphore.SignalState = previous + adjustment;
            WakeWaitersUnsynchronized(semaphore, ref wakes);
        }
        Complete(wakes);
        return previous;
    }

    // ---- Mutants ----

    /// <summary>Gives a new mutant to <paramref name="owner"/> at once (NtCreateMutant with InitialOwner).</summary>
    public void AcquireMutant(KMutant mutant, KThread owner)
    {
        lock (_lock) Consume(mutant, owner);
    }

    /// <summary>Releases one level of ownership; returns the previous count, or null if <paramref name="owner"/> does not own it.</summary>
    public int? ReleaseMutant(KMutant mutant, KThread owner)
    {
        var wakes = new Wakes();
        int previous;
        lock (_lock)
        {
            if (!ReferenceEquals(mutant.OwnerThread, owner)) return null;
            previous = mutant.SignalState;
            mutant.SignalState++;
            if (mutant.SignalState == 1)
            {
                mutant.OwnerThread = null;
                owner.OwnedMutants.Remove(mutant);
                WakeWaitersUnsynchronized(mutant, ref wakes);
            }
        }
        Complete(wakes);
        return previous;
    }

    /// <summary>MUTANT_BASIC_INFORMATION as <paramref name="thread"/> sees it: the count, whether it owns the mutant, whether it was abandoned.</summary>
    public (int Count, bool OwnedByCaller, bool Abandoned) QueryMutant(KMutant mutant, KThread thread)
    {
        lock (_lock) return (mutant.SignalState, ReferenceEquals(mutant.OwnerThread, thread), mutant.Abandoned);
    }

    /// <summary>The owner died holding it: free, marked abandoned; the next owner is told so.</summary>
    private static void AbandonUnsynchronized(KMutant mutant, ref Wakes wakes)
    {
        mutant.OwnerThread?.OwnedMutants.Remove(mutant);
        mutant.OwnerThread = null;
        mutant.Abandoned = true;
        mutant.SignalState = 1;
        WakeWaitersUnsynchronized(mutant, ref wakes);
    }

    /// <summary>Signals a waitable object that is not an event (a process or thread that ended).</summary>
    public void SignalForever(DispatcherObject obj)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            obj.SignalState = 1;
            WakeWaitersUnsynchronized(obj, ref wakes);
        }
        Complete(wakes);
    }

    /// <summary>The signal state as the dispatcher sees it now (queries read it under the lock).</summary>
    public int ReadState(DispatcherObject obj)
    {
        lock (_lock) return obj.SignalState;
    }
}
