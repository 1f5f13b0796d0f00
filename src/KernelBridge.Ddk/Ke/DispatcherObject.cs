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

    /// <summary>Signal state (events: 0/1; semaphores: the count; mutants: 1 free, 0 or less owned; queues: packets queued).</summary>
    internal int SignalState;

    /// <summary>WaitListHead: the wait blocks of the waits in progress on this object, in arrival order.</summary>
    internal KWaitList WaitList;
}
