using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoRequest
{
    private int _cancelPins;
    private Irp? _irpToFree;

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

    /// <summary>Runs <paramref name="action"/> when the request of <paramref name="generation"/> finishes; false if it already has.</summary>
    public bool WhenFinished(int generation, Action action)
    {
        lock (_lock)
        {
            if (generation != Generation) return false;
            (_whenFinished ??= []).Add(action);
            return true;
        }
    }
}
