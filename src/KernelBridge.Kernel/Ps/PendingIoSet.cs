using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// A process's I/O requests in flight (what CancelIo, CancelIoEx and rundown look through). A
/// plain set under a lock: adding and removing allocate nothing once it has grown.
/// </summary>
internal sealed class PendingIoSet(int limit = int.MaxValue)
{
    private readonly HashSet<IoRequest> _requests = new(ReferenceEqualityComparer.Instance);

    /// <summary>The most requests in flight at once (the process's pending-IRP quota).</summary>
    public int Limit { get; } = limit;

    /// <summary>Adds a request; false (nothing added) when the process already has <see cref="Limit"/> in flight.</summary>
    public bool TryAdd(IoRequest request)
    {
        lock (_requests)
        {
            if (_requests.Count >= Limit) return false;
            _requests.Add(request);
            return true;
        }
    }

    public void Remove(IoRequest request)
    {
        lock (_requests) _requests.Remove(request);
    }

    public int Count
    {
        get
        {
            lock (_requests) return _requests.Count;
        }
    }

    public IoRequest[] Snapshot()
    {
        lock (_requests) return [.. _requests];
    }
}
