using KernelBridge.Kernel.Ke;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// A process's waits in progress, by the sequence of the call that started each (so an async
/// wait can be cancelled, and rundown can end them all). A plain dictionary under a lock: adding
/// and removing allocate nothing once it has grown. A client may start a wait under a sequence
/// another of its waits still holds; that wait is kept aside, so rundown still ends it (forgetting
/// it left the wait, and the objects it references, behind for good).
/// </summary>
internal sealed class PendingWaitTable
{
    private readonly Dictionary<uint, KWaitRef> _waits = [];
    private readonly List<(uint Sequence, KWaitRef Wait)> _sharingSequence = [];

    /// <summary>Records a wait that is still going; one that ended meanwhile is not kept.</summary>
    public void Add(uint sequence, KWaitRef wait)
    {
        lock (_waits)
        {
            if (!_waits.TryAdd(sequence, wait)) _sharingSequence.Add((sequence, wait));
        }
        // Its completion may have run before it was recorded (and found nothing to remove).
        if (Dispatcher.HasEnded(wait)) RemoveEnded(sequence);
    }

    /// <summary>Takes out the wait of <paramref name="sequence"/> (to cancel it).</summary>
    public bool Remove(uint sequence, out KWaitRef wait)
    {
        lock (_waits)
        {
            if (!_waits.Remove(sequence, out wait)) return false;
            Promote(sequence);
            return true;
        }
    }

    /// <summary>Forgets a wait of <paramref name="sequence"/> that has ended (its completion); others of that sequence stay.</summary>
    public void RemoveEnded(uint sequence)
    {
        lock (_waits)
        {
            if (_waits.TryGetValue(sequence, out var wait) && Dispatcher.HasEnded(wait))
            {
                _waits.Remove(sequence);
                Promote(sequence);
                return;
            }
            for (var i = 0; i < _sharingSequence.Count; i++)
            {
                if (_sharingSequence[i].Sequence != sequence || !Dispatcher.HasEnded(_sharingSequence[i].Wait)) continue;
                _sharingSequence.RemoveAt(i);
                return;
            }
        }
    }

    /// <summary>Takes every recorded wait out (rundown).</summary>
    public KWaitRef[] TakeAll()
    {
        lock (_waits)
        {
            var all = _waits.Values.Concat(_sharingSequence.Select(s => s.Wait)).ToArray();
            _waits.Clear();
            _sharingSequence.Clear();
            return all;
        }
    }

    private void Promote(uint sequence)
    {
        for (var i = 0; i < _sharingSequence.Count; i++)
        {
            if (_sharingSequence[i].Sequence != sequence) continue;
            _waits[sequence] = _sharingSequence[i].Wait;
            _sharingSequence.RemoveAt(i);
            return;
        }
    }
}
