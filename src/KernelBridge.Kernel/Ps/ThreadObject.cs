namespace KernelBridge.Kernel.Ps;

/// <summary>
/// ETHREAD: a thread of a client process, known by its Linux thread id (made on its first call).
/// Its dispatcher state (wait, port, mutants, APCs, timers) is the KTHREAD it derives from.
/// Waitable: signalled when the thread has ended.
/// </summary>
internal sealed class ThreadObject(ProcessObject process, int threadId) : KThread(ObjectTypes.Thread)
{
    public ProcessObject Process { get; } = process;
    public int ThreadId { get; } = threadId;

    /// <summary>Whether the Linux thread is gone (its /proc entry vanished). Unknown means alive.</summary>
    internal override bool HasExited()
    {
        var tasks = $"/proc/{Process.ProcessId}/task";
        if (!Directory.Exists(tasks)) return Process.Terminating;
        return !Directory.Exists($"{tasks}/{ThreadId}");
    }

    public override string ToString() => $"thread {ThreadId} of {Process}";
}
