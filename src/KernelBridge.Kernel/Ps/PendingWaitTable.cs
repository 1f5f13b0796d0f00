using KernelBridge.Kernel.Ke;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// A process's waits in progress, by the sequence of the call that started each (so an async
/// wait can be cancelled, and rundown can end them all). A plain dictionary under a lock: adding
/// and removing allocate nothing once it has grown.
/// </summary>
internal sealed class PendingWaitTable
{
    private readonly Dictionary<uint, KWaitRef> _waits = [];

    /// <summary>Records a wait that is still going; one that ended meanwhile is not kept.</summary>
    public void Add(uint sequence, KWaitRef wait)
    {
        lock (_waits)
        {
            if (!_waits.TryAdd(sequence, wait)) return;
        }
        // Its completion may have run before it was recorded (and found nothing to remove).
        if (Dispatcher.HasEnded(wait)) Remove(sequence);
    }

    public bool Remove(uint sequence, out KWaitRef wait)
    {
        lock (_waits) return _waits.Remove(sequence, out wait);
    }

    public void Remove(uint sequence)
    {
        lock (_waits) _waits.Remove(sequence);
    }

    /// <summary>Takes every recorded wait out (rundown).</summary>
    public KWaitRef[] TakeAll()
    {
        lock (_waits)
        {
            var all = _waits.Values.ToArray();
            _waits.Clear();
            return all;
        }
    }
}
