namespace KernelBridge.Ddk;

/// <summary>
/// KTHREAD: what the dispatcher keeps per thread (its wait, its completion port, the mutants it
/// owns, its user APCs, the timers it armed with a completion routine). The kernel's thread
/// objects and its worker threads derive from it. Guarded by the dispatcher lock.
/// </summary>
internal abstract class KThread : DispatcherObject
{
    private protected KThread(ObjectType type) : base(type)
    {
    }

    /// <summary>The wait in progress (at most one per thread).</summary>
    internal KWait? CurrentWait;

    /// <summary>The completion-port wait in progress.</summary>
    internal KQueueWait? CurrentQueueWait;

    /// <summary>The completion port the thread is associated with (one at a time), and whether it counts as running for it.</summary>
    internal KQueue? QueuePort;
    internal bool QueueActive;

    internal readonly List<KMutant> OwnedMutants = [];
    internal readonly List<KUserApc> UserApcs = [];

    /// <summary>Timers this thread set with a completion routine (ETHREAD's active timer list).</summary>
    internal readonly List<KTimer> ActiveTimers = [];

    /// <summary>Whether the thread has ended (a mutant it owns is then abandoned).</summary>
    internal virtual bool HasExited() => false;
}
