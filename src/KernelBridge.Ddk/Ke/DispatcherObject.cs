using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// DISPATCHER_HEADER: anything a thread can wait on. The signal state and the wait list belong to
/// the kernel's dispatcher and change only under its lock.
/// </summary>
public abstract class DispatcherObject : KernelObject
{
    internal DispatcherObject(ObjectType type) : base(type)
    {
    }

    /// <summary>Signal state (events: 0/1; semaphores: the count; mutants: 1 free, 0 or less owned).</summary>
    internal int SignalState;

    /// <summary>The kernel's wait blocks for threads waiting on this object.</summary>
    internal readonly List<object> WaitList = [];
}

/// <summary>KEVENT. Drivers may make their own (KeInitializeEvent) or reference a user's by handle.</summary>
public sealed class KEvent : DispatcherObject
{
    public KEvent(EventType type, bool initialState) : base(ObjectTypes.Event)
    {
        Type = type;
        SignalState = initialState ? 1 : 0;
    }

    public EventType Type { get; }
}

/// <summary>KSEMAPHORE.</summary>
public sealed class KSemaphore : DispatcherObject
{
    public KSemaphore(int count, int limit) : base(ObjectTypes.Semaphore)
    {
        SignalState = count;
        Limit = limit;
    }

    public int Limit { get; }
}

/// <summary>KMUTANT: owned by a thread, recursively; abandoned if its owner dies holding it.</summary>
public sealed class KMutant : DispatcherObject
{
    public KMutant() : base(ObjectTypes.Mutant) => SignalState = 1;

    /// <summary>The owning thread (the kernel's thread object), or null when free.</summary>
    internal object? OwnerThread;
    internal bool Abandoned;
}

/// <summary>KDPC: a deferred procedure call, run when a kernel timer expires.</summary>
public sealed class KDpc(KDeferredRoutine routine, object? context)
{
    public KDeferredRoutine Routine { get; } = routine;
    public object? Context { get; } = context;
}

/// <summary>KDEFERRED_ROUTINE.</summary>
public delegate void KDeferredRoutine(KDpc dpc, object? deferredContext, object? systemArgument1, object? systemArgument2);

/// <summary>KTIMER: signalled at its due time (and every period after), optionally running a DPC.</summary>
public sealed class KTimer : DispatcherObject
{
    public KTimer(TimerType type = TimerType.NotificationTimer) : base(ObjectTypes.Timer) => Type = type;

    public TimerType Type { get; }

    /// <summary>The kernel's scheduling state for this timer.</summary>
    internal object? Scheduler;
}
