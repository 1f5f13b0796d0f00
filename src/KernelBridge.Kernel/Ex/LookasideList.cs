namespace KernelBridge.Kernel.Ex;

/// <summary>
/// A lookaside list (ExInitializeLookasideListEx): freed objects kept for reuse, up to a depth, so
/// a steady stream of requests allocates nothing. Allocates only when the list is empty.
/// </summary>
internal sealed class LookasideList<T>(Func<T> allocate, int depth = 1024) where T : class
{
    private readonly Stack<T> _free = new();

    /// <summary>A list whose objects go back to it themselves (they are made knowing their list).</summary>
    public static LookasideList<T> OfSelfFreeing(Func<LookasideList<T>, T> allocate)
    {
        LookasideList<T>? list = null;
        list = new LookasideList<T>(() => allocate(list!));
        return list;
    }

    public T Allocate()
    {
        lock (_free)
        {
            if (_free.TryPop(out var item)) return item;
        }
        return allocate();
    }

    public void Free(T item)
    {
        lock (_free)
        {
            if (_free.Count < depth) _free.Push(item);
        }
    }
}
