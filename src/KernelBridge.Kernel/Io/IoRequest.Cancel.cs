namespace KernelBridge.Kernel.Io;

/// <summary>Something waiting for a request to finish (NtCancelIoFile waits for what it cancelled).</summary>
internal abstract class IoRequestWatch
{
    /// <summary>The next watch of the same request (a request's watches are chained through themselves).</summary>
    internal IoRequestWatch? Next;

    public abstract void Finished();
}

internal sealed partial class IoRequest
{
    private int _cancelPins;
    private Irp? _irpToFree;
    private IoRequestWatch? _watchers;

    /// <summary>
    /// IoCancelIrp on this request's IRP, if it is still the request of <paramref name="generation"/>.
    /// The IRP is pinned meanwhile, so it cannot be freed and reused under the canceller.
    /// </summary>
    public bool TryCancel(int generation)
    {
        Irp irp;
        lock (_lock)
        {
            if (generation != Generation || Irp is null) return false;
            irp = Irp;
            _cancelPins++;
        }
        try
        {
            io.CancelIrp(irp);
            return true;
        }
        finally
        {
            Irp? free = null;
            lock (_lock)
            {
                if (--_cancelPins == 0 && _irpToFree is not null)
                {
                    free = _irpToFree;
                    _irpToFree = null;
                }
            }
            if (free is not null) io.FreeIrp(free);
        }
    }

    /// <summary>Tells <paramref name="watch"/> when the request of <paramref name="generation"/> finishes; false if it already has.</summary>
    public bool WhenFinished(int generation, IoRequestWatch watch)
    {
        lock (_lock)
        {
            if (generation != Generation) return false;
            watch.Next = _watchers;
            _watchers = watch;
            return true;
        }
    }
}
