using KernelBridge.Abi;

namespace KernelBridge.Client.Gate;

/// <summary>
/// Overlapped requests that pended, by the sequence of the call that issued them: the kernel's
/// completion notice carries that sequence, and the reader thread then writes the caller's output
/// buffer and IOSB. When the connection goes the table closes and hands back what it held.
/// </summary>
internal sealed class OutstandingIo
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, IoTarget> _targets = [];
    private bool _closed;
    private volatile int _count;

    /// <summary>How many pended requests this connection is waiting to hear the end of (read without the lock).</summary>
    public int Count => _count;

    /// <summary>Remembers a pended request; false if the connection is already gone (its end will never come).</summary>
    public bool TryAdd(uint sequence, in IoTarget target)
    {
        lock (_lock)
        {
            if (_closed) return false;
            _targets[sequence] = target;
            _count = _targets.Count;
            return true;
        }
    }

    /// <summary>The request a completion notice ends, taken out of the table.</summary>
    public bool TryTake(uint sequence, out IoTarget target)
    {
        lock (_lock)
        {
            var taken = _targets.Remove(sequence, out target);
            _count = _targets.Count;
            return taken;
        }
    }

    /// <summary>Tells every pended request that its end will never come, and refuses later ones.</summary>
    public void Close(NtStatus status)
    {
        IoTarget[] orphans;
        lock (_lock)
        {
            _closed = true;
            orphans = [.. _targets.Values];
            _targets.Clear();
            _count = 0;
        }
        foreach (var target in orphans) target.Completed?.Invoke(status);
    }
}
