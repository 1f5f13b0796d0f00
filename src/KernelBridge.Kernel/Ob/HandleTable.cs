namespace KernelBridge.Kernel.Ob;

/// <summary>Per-handle attributes kept beside the granted access.</summary>
[Flags]
internal enum HandleAttributes : uint
{
    None = 0,
    /// <summary>OBJ_PROTECT_CLOSE: NtClose answers STATUS_HANDLE_NOT_CLOSABLE.</summary>
    ProtectFromClose = 0x1,
    /// <summary>OBJ_INHERIT.</summary>
    Inherit = 0x2,
}

/// <summary>One slot of a handle table.</summary>
internal readonly record struct HandleEntry(KernelObject Object, uint GrantedAccess, HandleAttributes Attributes);

/// <summary>
/// A process's handle table, with NT's rules: values are (index + 1) &lt;&lt; 2, so 0 is never valid
/// and every value is a multiple of 4; the low two tag bits are ignored; freed slots are reused;
/// the table doubles when full. Values mean nothing in another process.
/// </summary>
internal sealed class HandleTable(int limit = HandleTable.MaxHandles)
{
    public const int MaxHandles = 1 << 24;

    /// <summary>The most handles this table holds (the process's handle quota).</summary>
    public int Limit { get; } = Math.Clamp(limit, 1, MaxHandles);

    private readonly Lock _lock = new();
    private HandleEntry?[] _slots = new HandleEntry?[16];
    private readonly Stack<int> _free = new();
    private int _used;
    private int _count;

    public int Count
    {
        get
        {
            lock (_lock) return _count;
        }
    }

    public static long ValueOf(int index) => (long)(index + 1) << 2;

    private static int IndexOf(long handle) => handle <= 0 || handle > (long)MaxHandles << 2 ? -1 : (int)((handle >> 2) - 1);

    /// <summary>
    /// Adds an entry; STATUS_INSUFFICIENT_RESOURCES if the table is at its limit (what ObpCreateHandle
    /// returns when ExCreateHandle finds no room: a full table is a resource, not a charged quota).
    /// </summary>
    public NtStatus Insert(in HandleEntry entry, out long handle)
    {
        lock (_lock)
        {
            if (_count >= Limit)
            {
                handle = 0;
                return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
            }
            int index;
            if (_free.Count > 0) index = _free.Pop();
            else
            {
                if (_used == MaxHandles)
                {
                    handle = 0;
                    return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
                }
                if (_used == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
                index = _used++;
            }
            _slots[index] = entry;
            _count++;
            handle = ValueOf(index);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    public bool TryGet(long handle, out HandleEntry entry)
    {
        var index = IndexOf(handle & ~3L);
        lock (_lock)
        {
            if (index >= 0 && index < _used && _slots[index] is { } found)
            {
                entry = found;
                return true;
            }
        }
        entry = default;
        return false;
    }

    /// <summary>Removes a handle: STATUS_INVALID_HANDLE if unknown, STATUS_HANDLE_NOT_CLOSABLE if protected.</summary>
    public NtStatus Remove(long handle, out HandleEntry entry)
    {
        var index = IndexOf(handle & ~3L);
        lock (_lock)
        {
            if (index < 0 || index >= _used || _slots[index] is not { } found)
            {
                entry = default;
                return NtStatus.STATUS_INVALID_HANDLE;
            }
            entry = found;
            if ((found.Attributes & HandleAttributes.ProtectFromClose) != 0) return NtStatus.STATUS_HANDLE_NOT_CLOSABLE;
            _slots[index] = null;
            _free.Push(index);
            _count--;
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>Changes a handle's attributes (SetHandleInformation); false if the handle is unknown.</summary>
    public bool SetAttributes(long handle, HandleAttributes attributes)
    {
        var index = IndexOf(handle & ~3L);
        lock (_lock)
        {
            if (index < 0 || index >= _used || _slots[index] is not { } found) return false;
            _slots[index] = found with { Attributes = attributes };
            return true;
        }
    }

    /// <summary>Rundown: empties the table, protected handles included, newest first.</summary>
    public List<HandleEntry> RemoveAll()
    {
        lock (_lock)
        {
            var all = new List<HandleEntry>(_count);
            for (var i = _used - 1; i >= 0; i--)
            {
                if (_slots[i] is { } entry) all.Add(entry);
                _slots[i] = null;
            }
            _free.Clear();
            _used = 0;
            _count = 0;
            return all;
        }
    }
}
