namespace KernelBridge.Ddk;

/// <summary>
/// What every parked wait has (a thread's wait on objects, a wait on a completion port): whether it
/// has ended, which use of the pooled object this is, and its deadline with the clock that watches
/// it. Guarded by the dispatcher lock.
/// </summary>
internal abstract class KTimedWait
{
    internal bool Done;
    internal int Generation;

    /// <summary>When the wait times out (Stopwatch ticks); long.MaxValue for never. The clock fires at or before it.</summary>
    internal long Deadline;
    internal Timer? Clock;
}
