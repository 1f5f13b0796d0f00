using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

internal enum IoRequestKind
{
    Create,
    Read,
    Write,
    DeviceControl,
    QueryInformation,
    Housekeeping,
}

/// <summary>
/// One I/O system call in flight: the IRP, the buffers that stand for the caller's memory, and
/// where the result goes. The call finishes when both the dispatch routine has returned and the
/// IRP has completed, in whichever order, on whichever thread; no thread waits in between.
/// Finishing applies Windows' rules (IopCompleteRequest): what is copied back, whether the IOSB is
/// written, which status the caller sees, and for overlapped files whether the event, the file,
/// the completion port and the APC hear of it. Pooled.
/// </summary>
internal sealed partial class IoRequest(IoManager io) : IIrpCompletionSink
{
    public IoRequestKind Kind;
    public ReplyTarget Reply;
    public ProcessObject? Process;
    public ThreadObject? Thread;
    public FileObject File = null!;
    public Irp Irp = null!;

    /// <summary>Rented memory holding the system buffer and/or the shadow of the caller's buffer.</summary>
    public byte[]? Rented;
    /// <summary>Where, in <see cref="Rented"/>, the bytes that go back to the caller start, and how many there can be.</summary>
    public int OutputOffset;
    public int OutputLength;
    /// <summary>Direct and neither I/O: the driver wrote into the caller's buffer itself, so all of it goes back whatever the status.</summary>
    public bool WholeOutputGoesBack;
    /// <summary>Buffered I/O with an output buffer (IRP_INPUT_OPERATION): Information bytes go back unless the status is an error.</summary>
    public bool BufferedCopyBack;

    // Who hears of the completion (NtReadFile's Event, ApcRoutine, ApcContext, IoStatusBlock).
    public KEvent? Event;
    public ulong ApcRoutine;
    public ulong ApcContext;
    public ulong IoStatusBlock;

    // Create only.
    public uint GrantedAccess;
    public HandleAttributes HandleAttributes;

    /// <summary>The IRP is IRP_MJ_CLOSE (which holds no reference on its file).</summary>
    public bool IsCloseIrp;

    private int _stage;
    private int _replied;
    private bool _pendingReturned;
    private NtStatus _dispatchStatus;
    private readonly Lock _lock = new();
    private List<Action>? _whenFinished;

    /// <summary>Bumped each time the request is reused, so a stale reference cannot cancel the next one.</summary>
    public int Generation { get; private set; }

    public bool Synchronous => (File.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0;

    /// <summary>The caller waits for the end: a synchronous file, or a query (the I/O manager waits for those on any file).</summary>
    private bool CallerWaits => Synchronous || Kind == IoRequestKind.QueryInformation;

    /// <summary>Holds the synchronous file's lock from start to finish.</summary>
    private bool _holdsFileLock;

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
    public void Start(DeviceObject device)
    {
        var exclusive = Synchronous && Kind != IoRequestKind.Create && !(Kind == IoRequestKind.Housekeeping && IsCloseIrp);
        if (!exclusive)
        {
            StartNow(device);
            return;
        }
        var state = FileState.Of(File);
        if (state.TryEnterExclusive()) StartHoldingFileLock(device);
        else state.EnqueueExclusive(this, device);
    }

    /// <summary>Starts with the synchronous file's lock held; <see cref="Release"/> lets it go.</summary>
    public void StartHoldingFileLock(DeviceObject device)
    {
        _holdsFileLock = true;
        StartNow(device);
    }

    private void StartNow(DeviceObject device)
    {
        _stage = 2;
        _replied = 0;
        _pendingReturned = false;
        Irp.CompletionSink = this;
        if (Process is not null && Kind != IoRequestKind.Housekeeping) Process.PendingIo.Add(this);
        var status = io.SendIrp(device, Irp, Process, Thread);
        _dispatchStatus = status;
        if (status == NtStatus.STATUS_PENDING && !CallerWaits && Kind != IoRequestKind.Create && Kind != IoRequestKind.Housekeeping)
        {
            // Overlapped: the caller hears STATUS_PENDING now and the completion later.
            Interlocked.Exchange(ref _replied, 1);
            Reply.Send(status, new IoTransferReply(default, IoReplyFlags.CompletionFollows, 0));
        }
        else if (status != NtStatus.STATUS_PENDING && Volatile.Read(ref Irp.CompletedFlag) == 0)
        {
            // The driver returned a final status without completing the IRP. Windows returns that
            // status at once and never writes the caller's memory; do the same.
            SendEarly(status);
        }
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    public void OnIrpCompleted(Irp irp)
    {
        _pendingReturned = irp.PendingReturned;
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    /// <summary>Set when the caller was answered before the IRP completed without pending: the completion, if it ever comes, reaches nobody.</summary>
    private bool _answeredEarly;

    private void SendEarly(NtStatus status)
    {
        if (Interlocked.Exchange(ref _replied, 1) != 0) return;
        _answeredEarly = true;
        if (Kind == IoRequestKind.Create) Reply.Send(status, new NtCreateFileReply(0, default, IoReplyFlags.None, 0));
        else if (Kind != IoRequestKind.Housekeeping && Reply.IsValid) Reply.Send(status, new IoTransferReply(default, IoReplyFlags.None, 0));
    }

    private void Finish()
    {
        var status = Irp.IoStatus.Status;
        var iosb = new IoStatusWire(status, 0, Math.Max(0, Irp.IoStatus.Information));
        var pended = _dispatchStatus == NtStatus.STATUS_PENDING || _pendingReturned;
        switch (Kind)
        {
            case IoRequestKind.Create:
                if (Interlocked.Exchange(ref _replied, 1) == 0) FinishCreate(_dispatchStatus == NtStatus.STATUS_PENDING ? status : _dispatchStatus, iosb);
                break;
            case IoRequestKind.Housekeeping:
                break;
            default:
                // A request answered early (the driver returned a status without completing) is over for the caller.
                if (!_answeredEarly) FinishTransfer(iosb, pended);
                break;
        }
        _answeredEarly = false;
        Release();
    }

    private void FinishCreate(NtStatus final, IoStatusWire iosb)
    {
        if (!Reply.IsValid) return;
        if (final.IsSuccess)
        {
            FileState.Of(File).Opened = true;
            var status = io.ObjectManager.CreateHandle(Process!, File, GrantedAccess, HandleAttributes, out var handle);
            if (status.IsSuccess)
            {
                File.Flags |= FileObjectFlags.FO_HANDLE_CREATED;
                Reply.Send(final, new NtCreateFileReply(handle, iosb, IoReplyFlags.IosbWritten, (uint)io.GetAttachedDevice(File.DeviceObject).Flags));
                return;
            }
            // The process is going away: the driver saw CREATE, so it will see CLEANUP and CLOSE.
            io.SendHousekeepingIrp(File, IrpMajorFunction.IRP_MJ_CLEANUP, Process);
            final = status;
        }
        Reply.Send(final, new NtCreateFileReply(0, default, IoReplyFlags.None, 0));
    }

    /// <summary>The copy-back rules: direct/neither all of it, buffered Information bytes unless an error.</summary>
    private ReadOnlySpan<byte> OutputData(NtStatus status, long information, ref IoReplyFlags flags)
    {
        if (WholeOutputGoesBack && OutputLength > 0)
        {
            flags |= IoReplyFlags.OutputWritten;
            return Rented.AsSpan(OutputOffset, OutputLength);
        }
        // STATUS_VERIFY_REQUIRED (the medium changed) copies nothing, though it is only a warning.
        if (BufferedCopyBack && !status.IsError && status != NtStatus.STATUS_VERIFY_REQUIRED)
        {
            var copy = (int)Math.Min(information, OutputLength);
            if (information > OutputLength) io.ReportOvercopy(File, Irp, information, OutputLength);
            flags |= IoReplyFlags.OutputWritten;
            return Rented.AsSpan(OutputOffset, copy);
        }
        return default;
    }

    private void FinishTransfer(IoStatusWire iosb, bool pended)
    {
        var status = (NtStatus)iosb.Status;
        var alreadyReplied = Interlocked.Exchange(ref _replied, 1) != 0;
        if (CallerWaits)
        {
            // The I/O manager waited: the IOSB is written unless the status is an error, except that a
            // query it waited on (IRP_SYNCHRONOUS_API) that pended writes it whatever the status.
            var synchronousApi = (Irp.Flags & IrpFlags.IRP_SYNCHRONOUS_API) != 0 && _dispatchStatus == NtStatus.STATUS_PENDING;
            var flags = !status.IsError || synchronousApi ? IoReplyFlags.IosbWritten : IoReplyFlags.None;
            var data = OutputData(status, iosb.Information, ref flags);
            var final = _dispatchStatus == NtStatus.STATUS_PENDING ? status : _dispatchStatus;
            if (!alreadyReplied && Reply.IsValid) Reply.Send(final, new IoTransferReply(iosb, flags, (uint)data.Length), data);
            if (!status.IsError) NotifyCompletion(status, iosb, pended);
            else if (pended) io.Dispatcher.SetEvent(File.Event);
            return;
        }

        // Overlapped: delivered when the IRP pended or did not fail. A synchronous failure touches nothing.
        var deliver = pended || !status.IsError;
        var overlappedFlags = deliver ? IoReplyFlags.IosbWritten : IoReplyFlags.None;
        var output = OutputData(status, iosb.Information, ref overlappedFlags);
        var reply = new IoTransferReply(iosb, overlappedFlags, (uint)output.Length);
        if (alreadyReplied) Reply.Connection?.SendNotify(NotificationKind.IoCompletion, Reply.Sequence, in reply, output);
        else if (Reply.IsValid) Reply.Send(_dispatchStatus, reply, output);
        if (deliver) NotifyCompletion(status, iosb, pended);
    }

    /// <summary>After the caller's memory is written (the reply or notification went first): event, file, APC, port.</summary>
    private void NotifyCompletion(NtStatus status, IoStatusWire iosb, bool pended)
    {
        var state = FileState.Of(File);
        if (Event is not null) io.Dispatcher.SetEvent(Event);
        if ((Event is null || Synchronous) && (state.Modes & CompletionModes.FILE_SKIP_SET_EVENT_ON_HANDLE) == 0)
            io.Dispatcher.SetEvent(File.Event);
        if (ApcRoutine != 0)
        {
            if (Thread is not null) io.Dispatcher.QueueUserApc(Thread, new Ke.UserApc(ApcRoutine, ApcContext, IoStatusBlock, 0));
        }
        else if (state.Port is { } port && ApcContext != 0)
        {
            var skip = !pended && status.IsSuccess && (state.Modes & CompletionModes.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != 0;
            if (!skip) io.Dispatcher.InsertQueue(port, new CompletionPacket(state.Key, ApcContext, iosb.Status, 0, iosb.Information));
        }
    }

    private void Release()
    {
        List<Action>? waiting;
        bool irpPinned;
        lock (_lock)
        {
            Generation++;
            waiting = _whenFinished;
            _whenFinished = null;
            irpPinned = _cancelPins > 0;
            if (irpPinned) _irpToFree = Irp;
        }
        Process?.PendingIo.Remove(this);
        if (_holdsFileLock)
        {
            _holdsFileLock = false;
            FileState.Of(File).ReleaseExclusive();
        }
        if (Rented is not null) io.BufferPool.Return(Rented);
        Rented = null;
        var file = File;
        var irp = Irp;
        var housekeepingClose = Kind == IoRequestKind.Housekeeping && IsCloseIrp;
        var kevent = Event;
        File = null!;
        Irp = null!;
        Process = null;
        Thread = null;
        Reply = default;
        Event = null;
        ApcRoutine = ApcContext = IoStatusBlock = 0;
        OutputOffset = OutputLength = 0;
        WholeOutputGoesBack = BufferedCopyBack = false;
        IsCloseIrp = false;
        if (!irpPinned) io.FreeIrp(irp);
        if (kevent is not null) io.ObjectManager.Dereference(kevent);
        // The request's reference on the file (a CLOSE IRP has none: the file is being deleted).
        if (!housekeepingClose) io.ObjectManager.Dereference(file);
        io.ReturnRequest(this);
        if (waiting is not null) foreach (var action in waiting) action();
    }
}
