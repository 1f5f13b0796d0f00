using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Ps;

/// <summary>ETHREAD: a thread of a client process, known by its Linux thread id (made on its first call).</summary>
internal sealed class ThreadObject(ProcessObject process, int threadId) : KernelObject(ObjectTypes.Thread)
{
    public ProcessObject Process { get; } = process;
    public int ThreadId { get; } = threadId;

    public override string ToString() => $"thread {ThreadId} of {Process}";
}
