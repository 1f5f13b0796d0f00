namespace KernelBridge.Kernel.Mm;

/// <summary>
/// The part of a user process's address space where its views live: the range the client library
/// reserved at hello, and the views (VADs) in it, kept in address order. The memory manager chooses
/// every view's address here, so a driver can hand the caller an address before the caller has
/// mapped anything. Guarded by its own lock.
/// </summary>
internal sealed class ViewSpace(ulong baseAddress, ulong length, IViewMapper? mapper)
{
    private readonly SortedList<ulong, MappedView> _views = [];
    private readonly Lock _lock = new();

    public ulong BaseAddress { get; } = baseAddress;
    public ulong Length { get; } = length;
    public ulong End => BaseAddress + Length;
    public IViewMapper? Mapper { get; } = mapper;

    /// <summary>True once the process has gone: no view may be added.</summary>
    private bool _closed;

    public int Count
    {
        get
        {
            lock (_lock) return _views.Count;
        }
    }

    /// <summary>
    /// Places a view of <paramref name="length"/> bytes: at <paramref name="wanted"/> if not 0 (it must
    /// be free), else at the lowest free granularity-aligned address. Null when there is no room (or
    /// the wanted range is not free, <paramref name="conflict"/> true).
    /// </summary>
    public MappedView? TryInsert(ulong wanted, ulong length, Func<ulong, MappedView> create, out bool conflict)
    {
        conflict = false;
        lock (_lock)
        {
            if (_closed) return null;
            ulong address;
            if (wanted != 0)
            {
                if (wanted < BaseAddress || wanted > End || length > End - wanted || Overlaps(wanted, length))
                {
                    conflict = true;
                    return null;
                }
                address = wanted;
            }
            else if (!TryFindFree(length, out address))
            {
                return null;
            }
            var view = create(address);
            _views.Add(address, view);
            return view;
        }
    }

    private bool Overlaps(ulong address, ulong length)
    {
        foreach (var view in _views.Values)
        {
            if (view.BaseAddress >= address + length) break;
            if (view.End > address) return true;
        }
        return false;
    }

    private bool TryFindFree(ulong length, out ulong address)
    {
        const ulong granularity = MemoryAttributes.AllocationGranularity;
        var candidate = BaseAddress;
        foreach (var view in _views.Values)
        {
            if (view.End <= candidate) continue;
            if (view.BaseAddress >= candidate && view.BaseAddress - candidate >= length) break;
            candidate = (view.End + granularity - 1) & ~(granularity - 1);
        }
        address = candidate;
        return candidate <= End && End - candidate >= length;
    }

    /// <summary>The view holding <paramref name="address"/>, if any.</summary>
    public MappedView? Find(ulong address)
    {
        lock (_lock) return FindUnsynchronized(address);
    }

    private MappedView? FindUnsynchronized(ulong address)
    {
        var keys = _views.Keys;
        int low = 0, high = keys.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var view = _views.Values[middle];
            if (address < view.BaseAddress) high = middle - 1;
            else if (address >= view.End) low = middle + 1;
            else return view;
        }
        return null;
    }

    /// <summary>The free range around an address outside every view (for NtQueryVirtualMemory): its start and length.</summary>
    public (ulong Start, ulong Length) FreeRangeAround(ulong address)
    {
        lock (_lock)
        {
            var start = BaseAddress;
            var end = End;
            foreach (var view in _views.Values)
            {
                if (view.End <= address) start = Math.Max(start, view.End);
                else if (view.BaseAddress > address)
                {
                    end = view.BaseAddress;
                    break;
                }
            }
            return (start, end - start);
        }
    }

    /// <summary>Takes the view holding <paramref name="address"/> out; null if none does.</summary>
    public MappedView? Remove(ulong address)
    {
        lock (_lock)
        {
            var view = FindUnsynchronized(address);
            if (view is not null) _views.Remove(view.BaseAddress);
            return view;
        }
    }

    /// <summary>The process has gone: every view, taken out, and no more to come.</summary>
    public List<MappedView> Close()
    {
        lock (_lock)
        {
            _closed = true;
            var all = new List<MappedView>(_views.Values);
            _views.Clear();
            return all;
        }
    }
}
