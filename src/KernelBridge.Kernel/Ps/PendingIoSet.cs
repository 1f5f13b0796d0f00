namespace KernelBridge.Kernel.Ps;

/// <summary>
/// A process's I/O requests in flight (the I/O manager's; Ps only keeps the set). A plain set
/// under a lock: adding and removing allocate nothing once it has grown.
/// </summary>
internal sealed class PendingIoSet
{
    private readonly HashSet<object> _requests = new(ReferenceEqualityComparer.Instance);

    public void Add(object request)
    {
        lock (_requests) _requests.Add(request);
    }

    public void Remove(object request)
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

    public object[] Snapshot()
    {
        lock (_requests) return [.. _requests];
    }
}
