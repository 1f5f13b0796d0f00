using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>IO_CSQ_IRP_CONTEXT: lets a driver find (and remove) one specific queued IRP later.</summary>
public sealed class IoCsqIrpContext
{
    public Irp? Irp { get; internal set; }
    internal IoCsq? Csq;
}

/// <summary>
/// A cancel-safe IRP queue (IoCsq*): the driver supplies storage and a lock through the six
/// callbacks; the library owns the race between cancellation and removal. Use
/// <see cref="CancelSafeQueue"/> for a ready-made FIFO.
/// </summary>
public class IoCsq
{
    public delegate NtStatus CsqInsertIrpEx(IoCsq csq, Irp irp, object? insertContext);
    public delegate void CsqRemoveIrp(IoCsq csq, Irp irp);
    public delegate Irp? CsqPeekNextIrp(IoCsq csq, Irp? irp, object? peekContext);
    public delegate void CsqAcquireLock(IoCsq csq);
    public delegate void CsqReleaseLock(IoCsq csq);
    public delegate void CsqCompleteCanceledIrp(IoCsq csq, Irp irp);

    private CsqInsertIrpEx _insert = null!;
    private CsqRemoveIrp _remove = null!;
    private CsqPeekNextIrp _peek = null!;
    private CsqAcquireLock _acquire = null!;
    private CsqReleaseLock _release = null!;
    private CsqCompleteCanceledIrp _complete = null!;

    /// <summary>IoCsqInitializeEx.</summary>
    public static NtStatus Initialize(IoCsq csq, CsqInsertIrpEx insert, CsqRemoveIrp remove, CsqPeekNextIrp peek, CsqAcquireLock acquire,
        CsqReleaseLock release, CsqCompleteCanceledIrp complete)
    {
        ArgumentNullException.ThrowIfNull(csq);
        csq._insert = insert;
        csq._remove = remove;
        csq._peek = peek;
        csq._acquire = acquire;
        csq._release = release;
        csq._complete = complete;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>IoCsqInsertIrpEx: marks the IRP pending, queues it, and handles an IRP cancelled meanwhile.</summary>
    public static NtStatus InsertIrp(IoCsq csq, Irp irp, IoCsqIrpContext? context, object? insertContext = null)
    {
        ArgumentNullException.ThrowIfNull(csq);
        ArgumentNullException.ThrowIfNull(irp);
        Irp? cancelled = null;
        NtStatus status;
        csq._acquire(csq);
        try
        {
            Io.MarkIrpPending(irp);
            if (context is not null)
            {
                context.Irp = irp;
                context.Csq = csq;
            }
            irp.DriverContext[3] = context ?? (object)csq;
            status = csq._insert(csq, irp, insertContext);
            if (!status.IsSuccess)
            {
                if (context is not null) context.Irp = null;
                irp.DriverContext[3] = null;
                return status;
            }
            Io.SetCancelRoutine(irp, CancelRoutine);
            if (irp.Cancel && Io.SetCancelRoutine(irp, null) is not null)
            {
                // Cancelled before the routine was set: nobody else will complete it.
                csq._remove(csq, irp);
                if (context is not null) context.Irp = null;
                irp.DriverContext[3] = null;
                cancelled = irp;
            }
        }
        finally
        {
            csq._release(csq);
        }
        if (cancelled is not null) csq._complete(csq, cancelled);
        return status;
    }

    /// <summary>IoCsqRemoveNextIrp: the first queued IRP matching <paramref name="peekContext"/> that is not being cancelled.</summary>
    public static Irp? RemoveNextIrp(IoCsq csq, object? peekContext)
    {
        ArgumentNullException.ThrowIfNull(csq);
        csq._acquire(csq);
        try
        {
            var irp = csq._peek(csq, null, peekContext);
            while (irp is not null)
            {
                if (Io.SetCancelRoutine(irp, null) is not null)
                {
                    csq._remove(csq, irp);
                    if (irp.DriverContext[3] is IoCsqIrpContext context) context.Irp = null;
                    irp.DriverContext[3] = null;
                    return irp;
                }
                irp = csq._peek(csq, irp, peekContext);
            }
            return null;
        }
        finally
        {
            csq._release(csq);
        }
    }

    /// <summary>IoCsqRemoveIrp: the IRP behind <paramref name="context"/>, or null if it was cancelled or removed already.</summary>
    public static Irp? RemoveIrp(IoCsq csq, IoCsqIrpContext context)
    {
        ArgumentNullException.ThrowIfNull(csq);
        ArgumentNullException.ThrowIfNull(context);
        csq._acquire(csq);
        try
        {
            var irp = context.Irp;
            if (irp is null || Io.SetCancelRoutine(irp, null) is null) return null;
            csq._remove(csq, irp);
            context.Irp = null;
            irp.DriverContext[3] = null;
            return irp;
        }
        finally
        {
            csq._release(csq);
        }
    }

    private static void CancelRoutine(DeviceObject device, Irp irp)
    {
        Io.ReleaseCancelSpinLock(Io.CancelIrql(irp));
        var csq = irp.DriverContext[3] switch
        {
            IoCsqIrpContext context => context.Csq!,
            IoCsq queue => queue,
            _ => throw new InvalidOperationException("a cancel-safe queue's IRP lost its queue"),
        };
        csq._acquire(csq);
        csq._remove(csq, irp);
        if (irp.DriverContext[3] is IoCsqIrpContext ctx) ctx.Irp = null;
        irp.DriverContext[3] = null;
        csq._release(csq);
        csq._complete(csq, irp);
    }
}

/// <summary>
/// A ready-made cancel-safe FIFO of IRPs: queue in a dispatch routine, take out when the data is
/// there, drain a file object's IRPs in IRP_MJ_CLEANUP. Cancelled IRPs complete with STATUS_CANCELLED.
/// </summary>
public sealed class CancelSafeQueue : IoCsq
{
    private readonly LinkedList<Irp> _irps = new();
    private readonly Lock _lock = new();

    public CancelSafeQueue() =>
        Initialize(this,
            (_, irp, _) =>
            {
                _irps.AddLast(irp);
                return NtStatus.STATUS_SUCCESS;
            },
            (_, irp) => _irps.Remove(irp),
            (_, irp, peek) =>
            {
                var node = irp is null ? _irps.First : _irps.Find(irp)?.Next;
                while (node is not null && peek is FileObject file && !ReferenceEquals(Io.GetCurrentIrpStackLocation(node.Value).FileObject, file))
                    node = node.Next;
                return node?.Value;
            },
            _ => _lock.Enter(),
            _ => _lock.Exit(),
            (_, irp) =>
            {
                irp.IoStatus.Status = NtStatus.STATUS_CANCELLED;
                irp.IoStatus.Information = 0;
                Io.CompleteRequest(irp);
            });

    public int Count
    {
        get
        {
            lock (_lock) return _irps.Count;
        }
    }

    /// <summary>Queues the IRP (marking it pending); the dispatch routine then returns STATUS_PENDING.</summary>
    public NtStatus Insert(Irp irp, IoCsqIrpContext? context = null) => InsertIrp(this, irp, context);

    /// <summary>The oldest IRP (of <paramref name="file"/>, if given), or null.</summary>
    public Irp? RemoveNext(FileObject? file = null) => RemoveNextIrp(this, file);

    /// <summary>Completes every IRP of <paramref name="file"/> (or all) with <paramref name="status"/>: what IRP_MJ_CLEANUP needs.</summary>
    public int CompleteAll(FileObject? file, NtStatus status)
    {
        var count = 0;
        while (RemoveNext(file) is { } irp)
        {
            irp.IoStatus.Status = status;
            irp.IoStatus.Information = 0;
            Io.CompleteRequest(irp);
            count++;
        }
        return count;
    }
}
