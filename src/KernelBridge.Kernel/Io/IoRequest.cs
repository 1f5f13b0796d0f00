using System.Buffers;
using System.Diagnostics;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

internal enum IoRequestKind
{
    Create,
    Read,
    Write,
    DeviceControl,
    /// <summary>A query the I/O manager waits for on any file (NtQueryInformationFile, NtQueryVolumeInformationFile, a name query).</summary>
    QueryInformation,
    /// <summary>A set the I/O manager waits for on any file (NtSetVolumeInformationFile).</summary>
    SetInformation,
    Housekeeping,
}

/// <summary>
/// One I/O system call in flight: the IRP, the buffers that stand for the caller's memory, and
/// where the outcome goes. The call finishes when both the dispatch routine has returned and the
/// IRP has completed, in whichever order, on whichever thread; no thread waits in between.
/// Finishing applies Windows' rules (IopCompleteRequest): what is copied back, whether the IOSB is
/// written, which status the caller sees, and for overlapped files whether the event, the file,
/// the completion port and the APC hear of it. The outcome goes to <see cref="Target"/>. Pooled.
/// </summary>
internal sealed partial class IoRequest(IoManager io) : IIrpCompletionSink
{
    public IoRequestKind Kind;
    public ProcessObject? Process;
    public ThreadObject? Thread;
    public IoFileObject File = null!;
    public Irp Irp = null!;

    /// <summary>The top of the device stack the IRP enters.</summary>
    public DeviceObject Top = null!;

    /// <summary>Who hears the outcome (none for housekeeping IRPs), and the tag it gets back.</summary>
    public IIoCompletionTarget? Target;
    public ulong Tag;

    /// <summary>Rented memory holding the system buffer and/or the shadow of the caller's buffer.</summary>
    public byte[]? Rented;
    /// <summary>Where, in <see cref="Rented"/>, the bytes that go back to the caller start, and how many there can be.</summary>
    public int OutputOffset;
    public int OutputLength;
    /// <summary>Direct and neither I/O: the driver wrote into the caller's buffer itself, so all of it goes back whatever the status.</summary>
    public bool WholeOutputGoesBack;
    /// <summary>Buffered I/O with an output buffer (IRP_INPUT_OPERATION): Information bytes go back unless the status is an error.</summary>
    public bool BufferedCopyBack;
    /// <summary>The caller's output buffer lies in a view: what goes back is copied there by the kernel, and nothing travels.</summary>
    public Memory<byte> InPlaceOutput;
    /// <summary>Sections whose memory the request works in (a buffer in a view), referenced until it is over.</summary>
    public KernelObject? Pinned1;
    public KernelObject? Pinned2;

    // Who hears of the completion (NtReadFile's Event, ApcRoutine, ApcContext, IoStatusBlock).
    public KEvent? Event;
    public ulong ApcRoutine;
    public ulong ApcContext;
    public ulong IoStatusBlock;

    /// <summary>The IRP is IRP_MJ_CLOSE (which holds no reference on its file).</summary>
    public bool IsCloseIrp;

    private int _stage;
    private int _answered;
    private bool _pendingReturned;
    private NtStatus _dispatchStatus;
    private readonly Lock _lock = new();

    /// <summary>Bumped each time the request is reused, so a stale reference cannot cancel the next one.</summary>
    public int Generation { get; private set; }

    public bool Synchronous => File.IsSynchronous;

    /// <summary>The caller waits for the end: a synchronous file, or a query or set (the I/O manager waits for those on any file).</summary>
    private bool CallerWaits => Synchronous || Kind is IoRequestKind.QueryInformation or IoRequestKind.SetInformation;

    /// <summary>Holds the synchronous file's lock from start to finish.</summary>
    private bool _holdsFileLock;

    /// <summary>Set when the caller was answered before the IRP completed without pending: the completion, if it ever comes, reaches nobody.</summary>
    private bool _answeredEarly;

    public Memory<byte> Region(int offset, int length) => Rented.AsMemory(offset, length);

    /// <summary>Rents the request's memory (zeroed, so nothing of an earlier request leaks).</summary>
    public void RentBuffer(int length)
    {
        if (length == 0) return;
        Rented = io.BufferPool.Rent(length);
        Array.Clear(Rented, 0, length);
    }

    /// <summary>
    /// Sends the IRP to the top of the stack and lets the request finish when it can. On a
    /// synchronous file the request first queues for the file object lock: all I/O on such a file
    /// (and the CLEANUP of its last handle) runs one at a time.
    /// </summary>
    public void Start()
    {
        Debug.Assert(Irp is not null && File is not null && Top is not null, "a request starts with its IRP, file and device");
        var exclusive = Synchronous && Kind != IoRequestKind.Create && !(Kind == IoRequestKind.Housekeeping && IsCloseIrp);
        if (!exclusive)
        {
            StartNow();
            return;
        }
        if (File.TryEnterExclusive()) StartHoldingFileLock();
        else File.EnqueueExclusive(this);
    }

    /// <summary>Starts with the synchronous file's lock held; <see cref="Release"/> lets it go.</summary>
    public void StartHoldingFileLock()
    {
        _holdsFileLock = true;
        StartNow();
    }

    private void StartNow()
    {
        _stage = 2;
        _answered = 0;
        _pendingReturned = false;
        Irp.CompletionSink = this;
        var status = Process is not null && Kind != IoRequestKind.Housekeeping && !Process.PendingIo.TryAdd(this)
            ? RefuseOverQuota()
            : io.SendIrp(Top, Irp, Process, Thread);
        _dispatchStatus = status;
        if (status == NtStatus.STATUS_PENDING && !CallerWaits && Kind != IoRequestKind.Create && Kind != IoRequestKind.Housekeeping)
        {
            // Overlapped: the caller hears STATUS_PENDING now and the completion later.
            Interlocked.Exchange(ref _answered, 1);
            Target?.Complete(Tag, new IoOutcome { Kind = IoOutcomeKind.Pending, Status = status });
        }
        else if (status != NtStatus.STATUS_PENDING && Volatile.Read(ref Irp.CompletedFlag) == 0)
        {
            // The driver returned a final status without completing the IRP. Windows returns that
            // status at once and never writes the caller's memory; do the same.
            AnswerEarly(status);
        }
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    /// <summary>
    /// The process has its quota of requests in flight: the IRP never reaches a driver and ends as
    /// one IoAllocateIrp could not allocate would, STATUS_INSUFFICIENT_RESOURCES (a synchronous
    /// failure: nothing is signalled, no packet queued).
    /// </summary>
    private NtStatus RefuseOverQuota()
    {
        Irp.IoStatus.Status = NtStatus.STATUS_INSUFFICIENT_RESOURCES;
        Irp.IoStatus.Information = 0;
        io.CompleteRequest(Irp, 0);
        return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
    }

    public void OnIrpCompleted(Irp irp)
    {
        Debug.Assert(ReferenceEquals(irp, Irp), "an IRP completes to the request that sent it");
        _pendingReturned = irp.PendingReturned;
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    private void AnswerEarly(NtStatus status)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0) return;
        _answeredEarly = true;
        Target?.Complete(Tag, new IoOutcome { Kind = IoOutcomeKind.EarlyAnswer, Status = status });
    }

    private void Finish()
    {
        Debug.Assert(Volatile.Read(ref _stage) == 0, "a request finishes once both the dispatch has returned and the IRP has completed");
        var status = Irp.IoStatus.Status;
        var information = Math.Max(0, Irp.IoStatus.Information);
        if (Irp.Verified) VerifyInformation(ref status, ref information);
        var pended = _dispatchStatus == NtStatus.STATUS_PENDING || _pendingReturned;
        switch (Kind)
        {
            case IoRequestKind.Create:
                if (Interlocked.Exchange(ref _answered, 1) == 0) FinishCreate(_dispatchStatus == NtStatus.STATUS_PENDING ? status : _dispatchStatus, status, information);
                break;
            case IoRequestKind.Housekeeping:
                break;
            default:
                // A request answered early (the driver returned a status without completing) is over for the caller.
                if (!_answeredEarly) FinishTransfer(status, information, pended);
                break;
        }
        _answeredEarly = false;
        Release();
    }

    /// <summary>A create that succeeded leaves a file the driver knows (it will see CLEANUP and CLOSE); the handle is the service's to make.</summary>
    private void FinishCreate(NtStatus final, NtStatus iosbStatus, long information)
    {
        if (final.IsSuccess) File.Opened = true;
        Target?.Complete(Tag, new IoOutcome
        {
            Kind = IoOutcomeKind.Answer,
            Status = final,
            IosbWritten = final.IsSuccess,
            IosbStatus = iosbStatus,
            Information = information,
        });
    }

    /// <summary>The copy-back rules: direct/neither all of it, buffered Information bytes unless an error.</summary>
    private ReadOnlySpan<byte> OutputData(NtStatus status, long information, out bool written)
    {
        written = false;
        if (WholeOutputGoesBack && OutputLength > 0)
        {
            written = true;
            return Rented.AsSpan(OutputOffset, OutputLength);
        }
        // STATUS_VERIFY_REQUIRED (the medium changed) copies nothing, though it is only a warning.
        if (BufferedCopyBack && !status.IsError && status != NtStatus.STATUS_VERIFY_REQUIRED)
        {
            var copy = (int)Math.Min(information, OutputLength);
            if (information > OutputLength) io.ReportOvercopy(File, Irp, information, OutputLength);
            if (!InPlaceOutput.IsEmpty)
            {
                Rented.AsSpan(OutputOffset, Math.Min(copy, InPlaceOutput.Length)).CopyTo(InPlaceOutput.Span);
                return default;
            }
            written = true;
            return Rented.AsSpan(OutputOffset, copy);
        }
        return default;
    }

    private void FinishTransfer(NtStatus status, long information, bool pended)
    {
        var alreadyAnswered = Interlocked.Exchange(ref _answered, 1) != 0;
        if (CallerWaits)
        {
            // The I/O manager waited: the IOSB is written unless the status is an error, except that a
            // query it waited on (IRP_SYNCHRONOUS_API) that pended writes it whatever the status.
            var synchronousApi = (Irp.Flags & IrpFlags.IRP_SYNCHRONOUS_API) != 0 && _dispatchStatus == NtStatus.STATUS_PENDING;
            var output = OutputData(status, information, out var written);
            if (!alreadyAnswered)
            {
                Target?.Complete(Tag, new IoOutcome
                {
                    Kind = IoOutcomeKind.Answer,
                    Status = _dispatchStatus == NtStatus.STATUS_PENDING ? status : _dispatchStatus,
                    IosbWritten = !status.IsError || synchronousApi,
                    IosbStatus = status,
                    Information = information,
                    OutputWritten = written,
                    Output = output,
                });
            }
            if (!status.IsError) NotifyCompletion(status, information, pended);
            else if (pended) io.Dispatcher.SetEvent(File.Event);
            return;
        }

        // Overlapped: delivered when the IRP pended or did not fail. A synchronous failure touches nothing.
        var deliver = pended || !status.IsError;
        var data = OutputData(status, information, out var outputWritten);
        Target?.Complete(Tag, new IoOutcome
        {
            Kind = alreadyAnswered ? IoOutcomeKind.Completion : IoOutcomeKind.Answer,
            Status = alreadyAnswered ? status : _dispatchStatus,
            IosbWritten = deliver,
            IosbStatus = status,
            Information = information,
            OutputWritten = outputWritten,
            Output = data,
        });
        if (deliver) NotifyCompletion(status, information, pended);
    }

    /// <summary>After the caller's memory is written (the outcome went first): event, file, APC, port.</summary>
    private void NotifyCompletion(NtStatus status, long information, bool pended)
    {
        if (Event is not null) io.Dispatcher.SetEvent(Event);
        if ((Event is null || Synchronous) && (File.Modes & CompletionModes.FILE_SKIP_SET_EVENT_ON_HANDLE) == 0)
            io.Dispatcher.SetEvent(File.Event);
        if (ApcRoutine != 0)
        {
            if (Thread is not null) io.Dispatcher.QueueUserApc(Thread, new KUserApc(ApcRoutine, ApcContext, IoStatusBlock, 0));
        }
        else if (File.Port is { } port && ApcContext != 0)
        {
            var skip = !pended && status.IsSuccess && (File.Modes & CompletionModes.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != 0;
            if (!skip) io.Dispatcher.InsertQueue(port, new KQueuePacket(File.Key, ApcContext, status, information));
        }
    }

    private void Release()
    {
        bool irpPinned;
        IoRequestWatch? watchers;
        lock (_lock)
        {
            Generation++;
            watchers = _watchers;
            _watchers = null;
            irpPinned = _cancelPins > 0;
            if (irpPinned) _irpToFree = Irp;
        }
        Process?.PendingIo.Remove(this);
        if (_holdsFileLock)
        {
            _holdsFileLock = false;
            File.ReleaseExclusive();
        }
        if (Rented is not null) io.BufferPool.Return(Rented);
        Rented = null;
        var file = File;
        var irp = Irp;
        var housekeepingClose = Kind == IoRequestKind.Housekeeping && IsCloseIrp;
        var kevent = Event;
        File = null!;
        Irp = null!;
        Top = null!;
        Process = null;
        Thread = null;
        Target = null;
        Tag = 0;
        Event = null;
        ApcRoutine = ApcContext = IoStatusBlock = 0;
        OutputOffset = OutputLength = 0;
        WholeOutputGoesBack = BufferedCopyBack = false;
        InPlaceOutput = default;
        if (Pinned1 is not null) io.ObjectManager.Dereference(Pinned1);
        if (Pinned2 is not null) io.ObjectManager.Dereference(Pinned2);
        Pinned1 = Pinned2 = null;
        IsCloseIrp = false;
        if (!irpPinned) io.FreeIrp(irp);
        if (kevent is not null) io.ObjectManager.Dereference(kevent);
        // The request's reference on the file (a CLOSE IRP has none: the file is being deleted).
        if (!housekeepingClose) io.ObjectManager.Dereference(file);
        io.ReturnRequest(this);
        for (var watch = watchers; watch is not null; watch = watch.Next) watch.Finished();
    }
}
