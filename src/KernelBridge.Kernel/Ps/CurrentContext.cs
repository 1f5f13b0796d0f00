namespace KernelBridge.Kernel.Ps;

/// <summary>
/// The user process and thread on whose behalf kernel code is running right now (what
/// PsGetCurrentProcess and KeGetCurrentThread answer in a top-level driver's dispatch routine).
/// Set only around synchronous calls into drivers, never across an await.
/// </summary>
internal static class CurrentContext
{
    [ThreadStatic] private static ProcessObject? _process;
    [ThreadStatic] private static ThreadObject? _thread;

    public static ProcessObject? Process => _process;
    public static ThreadObject? Thread => _thread;

    public static Scope Enter(ProcessObject? process, ThreadObject? thread) => new(process, thread);

    public readonly ref struct Scope
    {
        private readonly ProcessObject? _savedProcess;
        private readonly ThreadObject? _savedThread;

        public Scope(ProcessObject? process, ThreadObject? thread)
        {
            _savedProcess = _process;
            _savedThread = _thread;
            _process = process;
            _thread = thread;
        }

        public void Dispose()
        {
            _process = _savedProcess;
            _thread = _savedThread;
        }
    }
}
