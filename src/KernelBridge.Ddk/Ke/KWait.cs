using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>What hears that a wait ended (called once, outside the dispatcher lock).</summary>
internal interface IKWaitCompletion
{
    void WaitEnded(NtStatus status);
}

/// <summary>
/// A wait in progress: the thread's wait state and its wait blocks (one per object). Nothing
/// blocks: the completion runs when the wait ends. Pooled by the dispatcher; <see cref="Generation"/>
/// tells a wait from a later use of the same object. Guarded by the dispatcher lock.
/// </summary>
internal sealed class KWait : KTimedWait
{
    private KWaitBlock[] _blocks = [];

    internal int Count;
    internal bool WaitAll;
    internal bool Alertable;

    /// <summary>The user thread waiting (null for a driver's own wait).</summary>
    internal KThread? Thread;

    /// <summary>Who would own a mutant this wait acquires (the user thread, or a kernel worker thread).</summary>
    internal KThread Owner = null!;

    internal IKWaitCompletion? Completion;

    /// <summary>The waiting thread gave up its completion port's running slot while it blocks here.</summary>
    internal bool SuspendedQueue;

    // Ended under the lock, completed after it: a chain through the ended waits.
    internal KWait? NextWake;
    internal NtStatus WakeStatus;

    internal KWaitBlock Block(int index) => _blocks[index];

    /// <summary>Readies the wait blocks for <paramref name="count"/> objects (they are kept for the next use).</summary>
    internal void Prepare(int count)
    {
        if (_blocks.Length < count)
        {
            var grown = new KWaitBlock[Math.Max(count, 2 * _blocks.Length)];
            Array.Copy(_blocks, grown, _blocks.Length);
            for (var i = _blocks.Length; i < grown.Length; i++) grown[i] = new KWaitBlock(this, i);
            _blocks = grown;
        }
        Count = count;
    }
}
