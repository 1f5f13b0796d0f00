using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// ETHREAD: a thread of a client process, known by its Linux thread id (made on its first call).
/// Waitable: signalled when the thread has ended.
/// </summary>
internal sealed class ThreadObject(ProcessObject process, int threadId) : DispatcherObject(ObjectTypes.Thread)
{
    public ProcessObject Process { get; } = process;
    public int ThreadId { get; } = threadId;

    // Guarded by the dispatcher lock.
    public Ke.Waiter? CurrentWait;
    public Ke.QueueWaiter? CurrentQueueWait;
    /// <summary>The completion port this thread is associated with (one at a time), and whether it counts as running for it.</summary>
    public Io.IoCompletionObject? QueuePort;
    public bool QueueActive;
    public readonly List<KMutant> OwnedMutants = [];
    public readonly List<Ke.UserApc> UserApcs = [];
    /// <summary>Timers this thread set with a completion routine (ETHREAD's active timer list).</summary>
    public readonly List<KTimer> ActiveTimers = [];

    /// <summary>Whether the Linux thread is gone (its /proc entry vanished). Unknown means alive.</summary>
    public bool HasExited()
    {
        var tasks = $"/proc/{Process.ProcessId}/task";
        if (!Directory.Exists(tasks)) return Process.Terminating;
        return !Directory.Exists($"{tasks}/{ThreadId}");
    }

    public override string ToString() => $"thread {ThreadId} of {Process}";
}
