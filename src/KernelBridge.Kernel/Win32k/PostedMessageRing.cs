namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// A queue's posted messages in arrival order: a ring that grows by doubling, so posting and taking
/// the first allocate nothing once grown. Taking one from the middle (a filtered GetMessage) shifts
/// the ones before it. Callers hold the user lock.
/// </summary>
internal sealed class PostedMessageRing
{
    private PostedMessage[] _items = new PostedMessage[16];
    private int _head;

    public int Count { get; private set; }

    public ref readonly PostedMessage this[int index] => ref _items[(_head + index) % _items.Length];

    public void Add(in PostedMessage message)
    {
        if (Count == _items.Length)
        {
            var grown = new PostedMessage[_items.Length * 2];
            for (var i = 0; i < Count; i++) grown[i] = this[i];
            _items = grown;
            _head = 0;
        }
        _items[(_head + Count) % _items.Length] = message;
        Count++;
    }

    /// <summary>Removes the message at <paramref name="index"/>, keeping the others in order.</summary>
    public void RemoveAt(int index)
    {
        for (var i = index; i > 0; i--) _items[(_head + i) % _items.Length] = _items[(_head + i - 1) % _items.Length];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        Count--;
    }

    /// <summary>Removes every message for <paramref name="hwnd"/> (its window was destroyed); how many went.</summary>
    public int RemoveWindow(long hwnd)
    {
        var kept = 0;
        var removed = 0;
        for (var i = 0; i < Count; i++)
        {
            var message = this[i];
            if (message.Hwnd == hwnd) removed++;
            else _items[(_head + kept++) % _items.Length] = message;
        }
        for (var i = kept; i < Count; i++) _items[(_head + i) % _items.Length] = default;
        Count = kept;
        return removed;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        Count = 0;
    }
}
