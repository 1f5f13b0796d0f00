using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// The dispatcher: signal states, waits and their satisfaction, all under one lock (as
/// KiDispatcherLock), which is what makes wait-all atomic. Wait completions run after the lock is
/// released. Nothing here blocks a thread except a driver's own KeWaitFor*.
/// </summary>
internal sealed partial class Dispatcher
{
    private readonly Lock _lock = new();

    /// <summary>Runs <paramref name="action"/> under the dispatcher lock, then the wait completions it caused.</summary>
    private void Locked(Action<List<(Waiter, NtStatus)>> action)
    {
        List<(Waiter, NtStatus)> wakes = [];
        lock (_lock) action(wakes);
        foreach (var (waiter, status) in wakes) waiter.Completion(status);
    }

    private T Locked<T>(Func<List<(Waiter, NtStatus)>, T> action)
    {
        List<(Waiter, NtStatus)> wakes = [];
        T result;
        lock (_lock) result = action(wakes);
        foreach (var (waiter, status) in wakes) waiter.Completion(status);
        return result;
    }

    // ---- Signal state ----

    private static bool IsSignaledFor(DispatcherObject obj, object owner) => obj switch
    {
        KMutant mutant => mutant.SignalState > 0 || ReferenceEquals(mutant.OwnerThread, owner),
        _ => obj.SignalState > 0,
    };

    /// <summary>A satisfied wait's side effect on the object; true if it took an abandoned mutant.</summary>
    private static bool Consume(DispatcherObject obj, object owner)
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
                    if (owner is ThreadObject thread) thread.OwnedMutants.Add(mutant);
                }
                mutant.SignalState--;
                return abandoned;
            default:
                return false;
        }
    }

    /// <summary>Tries to satisfy a waiter now. Returns its status, or null if it must wait.</summary>
    private static NtStatus? TrySatisfy(Waiter waiter)
    {
        var objects = waiter.Objects;
        if (waiter.WaitAll)
        {
            foreach (var obj in objects)
                if (!IsSignaledFor(obj, waiter.Owner)) return null;
            var abandoned = false;
            foreach (var obj in objects) abandoned |= Consume(obj, waiter.Owner);
            return abandoned ? NtStatus.STATUS_ABANDONED_WAIT_0 : NtStatus.STATUS_WAIT_0;
        }
        for (var i = 0; i < objects.Length; i++)
        {
            if (!IsSignaledFor(objects[i], waiter.Owner)) continue;
            var abandoned = Consume(objects[i], waiter.Owner);
            return new NtStatus((abandoned ? NtStatus.STATUS_ABANDONED_WAIT_0.Value : 0) + i);
        }
        return null;
    }

    /// <summary>Ends a waiter (caller holds the lock): unlinks it everywhere and queues its completion.</summary>
    private static void EndWaitUnsynchronized(Waiter waiter, NtStatus status, List<(Waiter, NtStatus)> wakes)
    {
        if (waiter.Done) return;
        waiter.Done = true;
        foreach (var obj in waiter.Objects) obj.WaitList.RemoveAll(b => ((WaitBlock)b).Waiter == waiter);
        waiter.Timeout?.Dispose();
        if (waiter.Thread is { } thread)
        {
            if (ReferenceEquals(thread.CurrentWait, waiter)) thread.CurrentWait = null;
            if (waiter.SuspendedQueue && status != NtStatus.STATUS_THREAD_IS_TERMINATING) ResumeQueueUnsynchronized(thread);
        }
        wakes.Add((waiter, status));
    }

    /// <summary>After an object became signalled: satisfy whoever can be, in arrival order.</summary>
    private static void WakeWaitersUnsynchronized(DispatcherObject obj, List<(Waiter, NtStatus)> wakes)
    {
        var index = 0;
        while (index < obj.WaitList.Count && obj.SignalState > 0)
        {
            var block = (WaitBlock)obj.WaitList[index];
            var status = TrySatisfy(block.Waiter);
            if (status is null)
            {
                index++;
                continue;
            }
            EndWaitUnsynchronized(block.Waiter, status.Value, wakes);
            index = 0;
        }
    }

    // ---- Waits ----

    /// <summary>
    /// Starts a wait. The completion runs exactly once: now (already signalled, timeout 0, an APC
    /// pending for an alertable wait) or later (signalled, timed out, alerted, cancelled).
    /// Timeout in 100 ns units: negative relative, positive absolute (FILETIME), null forever.
    /// </summary>
    public Waiter BeginWait(DispatcherObject[] objects, bool waitAll, bool alertable, long? timeout, ThreadObject? thread, object owner,
        Action<NtStatus> completion)
    {
        var waiter = new Waiter(objects, waitAll, alertable, thread, owner, completion);
        List<(QueueWaiter, CompletionPacket[])> released = [];
        Locked(wakes =>
        {
            foreach (var obj in objects)
                if (obj is KMutant { OwnerThread: ThreadObject ownerThread } mutant && !ReferenceEquals(ownerThread, owner) && ownerThread.HasExited())
                    AbandonUnsynchronized(mutant, wakes);
            if (TrySatisfy(waiter) is { } status)
            {
                EndWaitUnsynchronized(waiter, status, wakes);
                return;
            }
            if (alertable && thread is not null && thread.UserApcs.Count > 0)
            {
                EndWaitUnsynchronized(waiter, NtStatus.STATUS_USER_APC, wakes);
                return;
            }
            var delay = timeout is { } t ? DelayOf(t) : (TimeSpan?)null;
            if (delay is { } d && d <= TimeSpan.Zero)
            {
                EndWaitUnsynchronized(waiter, NtStatus.STATUS_TIMEOUT, wakes);
                return;
            }
            for (var i = 0; i < objects.Length; i++) objects[i].WaitList.Add(new WaitBlock(waiter, i));
            if (thread is not null)
            {
                thread.CurrentWait = waiter;
                waiter.SuspendedQueue = SuspendQueueUnsynchronized(thread, released);
            }
            if (delay is { } due)
                waiter.Timeout = new Timer(_ => Locked(w => EndWaitUnsynchronized(waiter, NtStatus.STATUS_TIMEOUT, w)), null, Clamp(due), Timeout.InfiniteTimeSpan);
        });
        foreach (var (queued, packets) in released) queued.Completion(NtStatus.STATUS_SUCCESS, packets);
        return waiter;
    }

    /// <summary>Ends a wait early (the client went away, or asked to cancel it).</summary>
    public void AbortWait(Waiter waiter, NtStatus status) => Locked(wakes => EndWaitUnsynchronized(waiter, status, wakes));

    /// <summary>A driver's blocking wait (KeWaitForSingleObject and friends).</summary>
    public NtStatus WaitBlocking(DispatcherObject[] objects, bool waitAll, bool alertable, long? timeout)
    {
        using var done = new ManualResetEventSlim();
        var result = NtStatus.STATUS_SUCCESS;
        BeginWait(objects, waitAll, alertable, timeout, null, KernelThreadToken.Current, status =>
        {
            result = status;
            done.Set();
        });
        done.Wait();
        return result;
    }

    /// <summary>Converts an NT timeout (negative relative, positive absolute) to a delay from now.</summary>
    public static TimeSpan DelayOf(long timeout) =>
        timeout < 0 ? TimeSpan.FromTicks(-timeout) : DateTime.FromFileTimeUtc(timeout) - DateTime.UtcNow;

    private static TimeSpan Clamp(TimeSpan delay) => delay > TimeSpan.FromDays(49) ? TimeSpan.FromDays(49) : delay;

    // ---- Events ----

    /// <summary>KeSetEvent: the previous state. Allocates nothing unless someone was waiting.</summary>
    public int SetEvent(KEvent kevent)
    {
        List<(Waiter, NtStatus)>? wakes = null;
        int previous;
        lock (_lock)
        {
            previous = kevent.SignalState;
            kevent.SignalState = 1;
            if (kevent.WaitList.Count > 0) WakeWaitersUnsynchronized(kevent, wakes = []);
        }
        if (wakes is not null) foreach (var (waiter, status) in wakes) waiter.Completion(status);
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
    public int PulseEvent(KEvent kevent) => Locked(wakes =>
    {
        var previous = kevent.SignalState;
        kevent.SignalState = 1;
        WakeWaitersUnsynchronized(kevent, wakes);
        kevent.SignalState = 0;
        return previous;
    });

    // ---- Semaphores ----

    /// <summary>Returns the previous count, or null if the release would pass the limit (nothing changes then).</summary>
    public int? ReleaseSemaphore(KSemaphore semaphore, int adjustment) => Locked<int?>(wakes =>
    {
        var previous = semaphore.SignalState;
        if (adjustment <= 0 || (long)previous + adjustment > semaphore.Limit) return null;
        semaphore.SignalState = previous + adjustment;
        WakeWaitersUnsynchronized(semaphore, wakes);
        return previous;
    });

    // ---- Mutants ----

    /// <summary>Gives a new mutant to <paramref name="owner"/> at once (NtCreateMutant with InitialOwner).</summary>
    public void AcquireMutant(KMutant mutant, object owner) => Locked(_ => Consume(mutant, owner));

    /// <summary>Releases one level of ownership; returns the previous count, or null if <paramref name="owner"/> does not own it.</summary>
    public int? ReleaseMutant(KMutant mutant, object owner) => Locked<int?>(wakes =>
    {
        if (!ReferenceEquals(mutant.OwnerThread, owner)) return null;
        var previous = mutant.SignalState;
        mutant.SignalState++;
        if (mutant.SignalState == 1)
        {
            mutant.OwnerThread = null;
            if (owner is ThreadObject thread) thread.OwnedMutants.Remove(mutant);
            WakeWaitersUnsynchronized(mutant, wakes);
        }
        return previous;
    });

    /// <summary>The owner died holding it: free, marked abandoned; the next owner is told so.</summary>
    private static void AbandonUnsynchronized(KMutant mutant, List<(Waiter, NtStatus)> wakes)
    {
        if (mutant.OwnerThread is ThreadObject thread) thread.OwnedMutants.Remove(mutant);
        mutant.OwnerThread = null;
        mutant.Abandoned = true;
        mutant.SignalState = 1;
        WakeWaitersUnsynchronized(mutant, wakes);
    }

    /// <summary>A thread is gone: its mutants are abandoned and its wait (if any) ends.</summary>
    public void ThreadExited(ThreadObject thread)
    {
        QueueWaiter? queueWaiter = null;
        List<(QueueWaiter, CompletionPacket[])> released = [];
        Locked(wakes =>
        {
            foreach (var mutant in thread.OwnedMutants.ToArray()) AbandonUnsynchronized(mutant, wakes);
            // A timer whose completion routine belongs to this thread is cancelled; its state stays.
            foreach (var timer in thread.ActiveTimers.ToArray()) CancelTimerUnsynchronized(timer);
            if (thread.CurrentWait is { } waiter) EndWaitUnsynchronized(waiter, NtStatus.STATUS_THREAD_IS_TERMINATING, wakes);
            if (thread.CurrentQueueWait is { Done: false } parked)
            {
                parked.Port.Waiters.Remove(parked);
                EndQueueWaitUnsynchronized(parked);
                queueWaiter = parked;
            }
            // Its running slot on its port goes, which may let a packet out to another thread.
            LeaveQueueUnsynchronized(thread, released);
            thread.UserApcs.Clear();
        });
        queueWaiter?.Completion(NtStatus.STATUS_THREAD_IS_TERMINATING, []);
        foreach (var (waiter, packets) in released) waiter.Completion(NtStatus.STATUS_SUCCESS, packets);
    }

    /// <summary>Signals a waitable object that is not an event (a process or thread that ended).</summary>
    public void SignalForever(DispatcherObject obj) => Locked(wakes =>
    {
        obj.SignalState = 1;
        WakeWaitersUnsynchronized(obj, wakes);
    });

    // ---- APCs ----

    /// <summary>Queues a user APC to a thread; an alertable wait in progress ends with STATUS_USER_APC.</summary>
    public void QueueUserApc(ThreadObject thread, in UserApc apc, bool onlyOnce = false)
    {
        var copy = apc;
        QueueWaiter? queueWaiter = null;
        Locked(wakes =>
        {
            if (onlyOnce && thread.UserApcs.Exists(a => ReferenceEquals(a.Timer, copy.Timer))) return;
            thread.UserApcs.Add(copy);
            if (thread.CurrentWait is { Alertable: true } waiter) EndWaitUnsynchronized(waiter, NtStatus.STATUS_USER_APC, wakes);
            if (thread.CurrentQueueWait is { Alertable: true, Done: false } q) queueWaiter = q;
        });
        if (queueWaiter is not null) EndQueueWait(queueWaiter, NtStatus.STATUS_USER_APC);
    }

    /// <summary>Takes every queued user APC of the thread (they run once, in order).</summary>
    public UserApc[] DrainUserApcs(ThreadObject thread) => Locked(_ =>
    {
        var apcs = thread.UserApcs.ToArray();
        thread.UserApcs.Clear();
        return apcs;
    });
}

/// <summary>A user-mode APC: routine and three arguments (PKNORMAL_ROUTINE's shape).</summary>
internal readonly record struct UserApc(ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3, KTimer? Timer = null);

/// <summary>Identifies a kernel worker thread as a mutant owner for drivers' own waits.</summary>
internal sealed class KernelThreadToken
{
    [ThreadStatic] private static KernelThreadToken? _current;

    public static KernelThreadToken Current => _current ??= new KernelThreadToken();
}
