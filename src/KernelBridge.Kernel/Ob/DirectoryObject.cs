namespace KernelBridge.Kernel.Ob;

/// <summary>
/// An object directory. Names that differ only in case may coexist (kernel32 creates named objects
/// case-sensitively); a case-insensitive lookup finds the exact spelling first, else any spelling.
/// Enumeration follows insertion order.
/// </summary>
internal sealed class DirectoryObject() : KernelObject(ObjectTypes.Directory)
{
    // Guarded by the object manager's namespace lock.
    private readonly Dictionary<string, List<KernelObject>> _buckets = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<KernelObject> _order = [];

    public int CountUnsynchronized => _order.Count;

    public KernelObject? LookupUnsynchronized(string name, bool caseInsensitive)
    {
        if (!_buckets.TryGetValue(name, out var bucket)) return null;
        foreach (var entry in bucket)
            if (string.Equals(entry.Header.Name, name, StringComparison.Ordinal)) return entry;
        return caseInsensitive ? bucket[0] : null;
    }

    /// <summary>Inserts unless the name is taken (in any case when <paramref name="caseInsensitive"/>).</summary>
    public bool TryInsertUnsynchronized(string name, KernelObject obj, bool caseInsensitive)
    {
        if (LookupUnsynchronized(name, caseInsensitive) is not null) return false;
        if (!_buckets.TryGetValue(name, out var bucket)) _buckets[name] = bucket = [];
        bucket.Add(obj);
        _order.Add(obj);
        return true;
    }

    public bool RemoveUnsynchronized(KernelObject obj)
    {
        if (obj.Header.Name is not { } name || !_buckets.TryGetValue(name, out var bucket) || !bucket.Remove(obj)) return false;
        if (bucket.Count == 0) _buckets.Remove(name);
        _order.Remove(obj);
        return true;
    }

    public KernelObject EntryAtUnsynchronized(int index) => _order[index];
}
