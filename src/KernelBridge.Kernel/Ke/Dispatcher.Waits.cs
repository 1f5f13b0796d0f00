using System.Diagnostics;
using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel.Ke;

/// <summary>A wait as its starter knows it: the pooled wait and which use of it this is.</summary>
internal readonly record struct KWaitRef(KWait Wait, int Generation);

internal sealed partial class Dispatcher
{
    private readonly LookasideList<KWait> _waits;

    private KWait NewWait() => WithClock(new KWait());

    /// <summary>Gives a pooled wait the clock it keeps for all its uses.</summary>
    private T WithClock<T>(T wait) where T : KTimedWait
    {
        wait.Clock = new Timer(static state =>
        {
            var (dispatcher, timed) = ((Dispatcher, KTimedWait))state!;
            dispatcher.OnClock(timed);
        }, (this, (KTimedWait)wait), Timeout.Infinite, Timeout.Infinite);
        return wait;
    }

    private void Recycle(KWait wait)
    {
        wait.Completion = null;
        wait.Thread = null;
        for (var i = 0; i < wait.Count; i++) wait.Block(i).Object = null!;
        _waits.Free(wait);
    }

    /// <summary>
    /// Starts a wait. The completion runs exactly once: now (already signalled, timeout passed, an
    /// APC pending for an alertable wait) or later (signalled, timed out, alerted, aborted).
    /// <paramref name="deadline"/> comes from <see cref="Timeouts.DeadlineOf"/>.
    /// </summary>
    public KWaitRef BeginWait(ReadOnlySpan<DispatcherObject> objects, bool waitAll, bool alertable, long deadline, KThread? thread,
        KThread owner, IKWaitCompletion completion)
    {
        var wait = _waits.Allocate();
        wait.Prepare(objects.Length);
        for (var i = 0; i < objects.Length; i++) wait.Block(i).Object = objects[i];
        wait.WaitAll = waitAll;
        wait.Alertable = alertable;
        wait.Thread = thread;
        wait.Owner = owner;
        wait.Completion = completion;
        wait.Deadline = deadline;
        wait.SuspendedQueue = false;
        wait.Done = false;

        var wakes = new Wakes();
        int generation;
        lock (_lock)
        {
            generation = wait.Generation;
            foreach (var obj in objects)
                if (obj is KMutant { OwnerThread: { } ownerThread } mutant && !ReferenceEquals(ownerThread, owner) && ownerThread.HasExited())
                    AbandonUnsynchronized(mutant, ref wakes);
            if (TrySatisfy(wait) is { } status) EndWaitUnsynchronized(wait, status, ref wakes);
            else if (alertable && thread is not null && thread.UserApcs.Count > 0) EndWaitUnsynchronized(wait, NtStatus.STATUS_USER_APC, ref wakes);
            else if (Timeouts.HasPassed(deadline)) EndWaitUnsynchronized(wait, NtStatus.STATUS_TIMEOUT, ref wakes);
            else
            {
                for (var i = 0; i < wait.Count; i++) objects[i].WaitList.Append(wait.Block(i));
                if (thread is not null)
                {
                    thread.CurrentWait = wait;
                    wait.SuspendedQueue = SuspendQueueUnsynchronized(thread, ref wakes);
                }
                if (deadline != Timeouts.Never) Timeouts.Arm(wait.Clock!, deadline);
            }
        }
        Complete(wakes);
        return new KWaitRef(wait, generation);
    }

    /// <summary>Ends a wait (caller holds the lock): off every object's list, completion queued.</summary>
    private static void EndWaitUnsynchronized(KWait wait, NtStatus status, ref Wakes wakes)
    {
        if (wait.Done) return;
        Debug.Assert(wait.Completion is not null, "a wait in progress knows who hears its end");
        wait.Done = true;
        wait.Generation++;
        for (var i = 0; i < wait.Count; i++)
        {
            var block = wait.Block(i);
            block.Object.WaitList.Remove(block);
        }
        Timeouts.Disarm(wait.Clock);
        if (wait.Thread is { } thread)
        {
            if (ReferenceEquals(thread.CurrentWait, wait)) thread.CurrentWait = null;
            if (wait.SuspendedQueue && status != NtStatus.STATUS_THREAD_IS_TERMINATING) ResumeQueueUnsynchronized(thread);
        }
        wakes.Add(wait, status);
    }

    /// <summary>A wait's clock ticked: it times out if its deadline has come.</summary>
    private void OnClock(KTimedWait timed)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            // A late tick from an earlier use of this wait finds it done, or its deadline not reached.
            if (timed.Done || timed.Deadline == Timeouts.Never) return;
            if (!Timeouts.HasPassed(timed.Deadline))
            {
                Timeouts.Arm(timed.Clock!, timed.Deadline);
                return;
            }
            switch (timed)
            {
                case KWait wait:
                    EndWaitUnsynchronized(wait, NtStatus.STATUS_TIMEOUT, ref wakes);
                    break;
                case KQueueWait queueWait:
                    queueWait.Port.RemoveWaiter(queueWait);
                    EndQueueWaitUnsynchronized(queueWait, NtStatus.STATUS_TIMEOUT, resume: true, ref wakes);
                    break;
            }
        }
        Complete(wakes);
    }

    /// <summary>Ends a wait early (the client went away, or asked to cancel it); nothing if it has already ended.</summary>
    public void AbortWait(KWaitRef waitRef, NtStatus status)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            if (waitRef.Wait.Generation != waitRef.Generation) return;
            EndWaitUnsynchronized(waitRef.Wait, status, ref wakes);
        }
        Complete(wakes);
    }

    /// <summary>Whether the wait of <paramref name="waitRef"/> has ended (its object may serve another wait since).</summary>
    public static bool HasEnded(KWaitRef waitRef) => Volatile.Read(ref waitRef.Wait.Generation) != waitRef.Generation;

    /// <summary>A driver's blocking wait (KeWaitForSingleObject and friends), on the calling kernel thread.</summary>
    public NtStatus WaitBlocking(DispatcherObject[] objects, bool waitAll, bool alertable, long? timeout)
    {
        var blocker = BlockingWait.Current;
        blocker.Reset();
        BeginWait(objects, waitAll, alertable, Timeouts.DeadlineOf(timeout), null, KernelThread.Current, blocker);
        return blocker.Wait();
    }

    /// <summary>What a blocked kernel thread waits on: one per OS thread, reused.</summary>
    private sealed class BlockingWait : IKWaitCompletion
    {
        [ThreadStatic] private static BlockingWait? _current;
        private readonly object _gate = new();
        private bool _ended;
        private NtStatus _status;

        public static BlockingWait Current => _current ??= new BlockingWait();

        public void Reset()
        {
            lock (_gate) _ended = false;
        }

        public NtStatus Wait()
        {
            lock (_gate)
            {
                while (!_ended) Monitor.Wait(_gate);
                return _status;
            }
        }

        public void WaitEnded(NtStatus status)
        {
            lock (_gate)
            {
                _status = status;
                _ended = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>A thread is gone: its mutants are abandoned, its timers' routines cancelled and its wait (if any) ends.</summary>
    public void ThreadExited(KThread thread)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            foreach (var mutant in thread.OwnedMutants.ToArray()) AbandonUnsynchronized(mutant, ref wakes);
            // A timer whose completion routine belongs to this thread is cancelled; its state stays.
            foreach (var timer in thread.ActiveTimers.ToArray()) CancelTimerUnsynchronized(timer);
            if (thread.CurrentWait is { } wait) EndWaitUnsynchronized(wait, NtStatus.STATUS_THREAD_IS_TERMINATING, ref wakes);
            if (thread.CurrentQueueWait is { Done: false } parked)
            {
                parked.Port.RemoveWaiter(parked);
                EndQueueWaitUnsynchronized(parked, NtStatus.STATUS_THREAD_IS_TERMINATING, resume: false, ref wakes);
            }
            // Its running slot on its port goes, which may let a packet out to another thread.
            LeaveQueueUnsynchronized(thread, ref wakes);
            thread.UserApcs.Clear();
        }
        Complete(wakes);
    }

    // ---- APCs ----

    /// <summary>
    /// Queues a user APC to a thread; an alertable wait in progress ends with STATUS_USER_APC. With
    /// <paramref name="onlyOnce"/>, a timer's APC is not queued while an earlier one still waits to run.
    /// </summary>
    public void QueueUserApc(KThread thread, in KUserApc apc, bool onlyOnce = false)
    {
        var wakes = new Wakes();
        lock (_lock)
        {
            if (onlyOnce)
                foreach (var queued in thread.UserApcs)
                    if (ReferenceEquals(queued.Timer, apc.Timer)) return;
            thread.UserApcs.Add(apc);
            if (thread.CurrentWait is { Alertable: true } wait) EndWaitUnsynchronized(wait, NtStatus.STATUS_USER_APC, ref wakes);
            if (thread.CurrentQueueWait is { Alertable: true, Done: false } queueWait)
            {
                queueWait.Port.RemoveWaiter(queueWait);
                EndQueueWaitUnsynchronized(queueWait, NtStatus.STATUS_USER_APC, resume: true, ref wakes);
            }
        }
        Complete(wakes);
    }

    /// <summary>Takes every queued user APC of the thread (they run once, in order).</summary>
    public KUserApc[] DrainUserApcs(KThread thread)
    {
        lock (_lock)
        {
            if (thread.UserApcs.Count == 0) return [];
            var apcs = thread.UserApcs.ToArray();
            thread.UserApcs.Clear();
            return apcs;
        }
    }
}
