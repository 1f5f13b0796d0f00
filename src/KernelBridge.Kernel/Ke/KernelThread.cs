namespace KernelBridge.Kernel.Ke;

/// <summary>
/// A kernel worker thread as the dispatcher sees it: the owner of the mutants a driver acquires
/// with KeWaitFor* on that OS thread. One per OS thread, made on first use.
/// </summary>
internal sealed class KernelThread : KThread
{
    [ThreadStatic] private static KernelThread? _current;

    private KernelThread() : base(ObjectTypes.Thread)
    {
    }

    public static KernelThread Current => _current ??= new KernelThread();
}
