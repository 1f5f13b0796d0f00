namespace KernelBridge.Ddk;

/// <summary>KWAIT_BLOCK: one object's link to a wait in progress, on the object's wait list.</summary>
internal sealed class KWaitBlock(KWait wait, int index)
{
    internal KWaitBlock? Next;
    internal KWaitBlock? Previous;
    internal bool Linked;
    internal DispatcherObject Object = null!;

    internal KWait Wait { get; } = wait;

    /// <summary>The object's position in the wait (WaitKey): what STATUS_WAIT_0 + n reports.</summary>
    internal int Index { get; } = index;
}

/// <summary>An object's wait list (LIST_ENTRY WaitListHead): wait blocks in arrival order, linked through themselves.</summary>
internal struct KWaitList
{
    internal KWaitBlock? First;
    private KWaitBlock? _last;

    internal readonly bool IsEmpty => First is null;

    internal void Append(KWaitBlock block)
    {
        System.Diagnostics.Debug.Assert(!block.Linked, "a wait block is on one list at a time");
        block.Previous = _last;
        block.Next = null;
        if (_last is null) First = block;
        else _last.Next = block;
        _last = block;
        block.Linked = true;
    }

    internal void Remove(KWaitBlock block)
    {
        if (!block.Linked) return;
        if (block.Previous is null) First = block.Next;
        else block.Previous.Next = block.Next;
        if (block.Next is null) _last = block.Previous;
        else block.Next.Previous = block.Previous;
        block.Next = block.Previous = null;
        block.Linked = false;
    }
}
