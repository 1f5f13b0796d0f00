using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// A wait in progress (the KWAIT_BLOCKs of one thread's wait): the objects, how they must be
/// signalled, and what to do when the wait ends. Nothing blocks: the completion runs later.
/// </summary>
internal sealed class Waiter(DispatcherObject[] objects, bool waitAll, bool alertable, ThreadObject? thread, object owner, Action<NtStatus> completion)
{
    public DispatcherObject[] Objects { get; } = objects;
    public bool WaitAll { get; } = waitAll;
    public bool Alertable { get; } = alertable;

    /// <summary>The user thread waiting (null for a driver's own wait).</summary>
    public ThreadObject? Thread { get; } = thread;

    /// <summary>Who would own a mutant this wait acquires (a thread object, or a kernel thread's token).</summary>
    public object Owner { get; } = owner;

    public Action<NtStatus> Completion { get; } = completion;

    /// <summary>Set (under the dispatcher lock) once the wait has ended.</summary>
    public bool Done;

    public Timer? Timeout;

    /// <summary>The waiting thread gave up its completion port's running slot while it blocks here.</summary>
    public bool SuspendedQueue;
}

/// <summary>One object's link to a waiter (KWAIT_BLOCK).</summary>
internal sealed class WaitBlock(Waiter waiter, int index)
{
    public Waiter Waiter { get; } = waiter;
    public int Index { get; } = index;
}
