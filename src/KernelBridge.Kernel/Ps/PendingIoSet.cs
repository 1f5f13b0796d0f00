using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// A process's I/O requests in flight (what CancelIo, CancelIoEx and rundown look through). A
/// plain set under a lock: adding and removing allocate nothing once it has grown.
/// </summary>
internal sealed class PendingIoSet
{
    private readonly HashSet<IoRequest> _requests = new(ReferenceEqualityComparer.Instance);

    public void Add(IoRequest request)
    {
        lock (_requests) _requests.Add(request);
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
