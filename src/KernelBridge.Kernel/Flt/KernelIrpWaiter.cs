using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Flt;

/// <summary>The end of an IRP the filter manager built itself: the status is kept, the IRP freed, the waiting caller woken.</summary>
internal sealed class KernelIrpWaiter(IoManager io) : IIrpCompletionSink
{
    private readonly object _lock = new();
    private bool _done;

    public IoStatusBlock Result { get; private set; }

    public void OnIrpCompleted(Irp irp)
    {
        var result = irp.IoStatus;
        io.FreeIrp(irp);
        lock (_lock)
        {
            Result = result;
            _done = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Waits for the completion; a file system that never completes gives STATUS_IO_TIMEOUT here (its IRP is freed whenever it does).</summary>
    public NtStatus Wait(TimeSpan limit)
    {
        var deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        lock (_lock)
        {
            while (!_done)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_lock, TimeSpan.FromMilliseconds(left))) return _done ? Result.Status : NtStatus.STATUS_IO_TIMEOUT;
            }
            return Result.Status;
        }
    }
}
