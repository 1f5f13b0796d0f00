using System.Buffers;
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
/// Finishing applies Windows' rules (IopCompleteRequest): what is copied back, whether the IOSB
/// is written, which status the caller sees. Pooled.
/// </summary>
internal sealed class IoRequest(IoManager io) : IIrpCompletionSink
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
    /// <summary>Advance the file position by Information on success (synchronous reads and writes).</summary>
    public bool AdvancesPosition;

    // Create only.
    public uint GrantedAccess;
    public HandleAttributes HandleAttributes;

    private int _stage;
    private int _replied;
    private NtStatus _dispatchStatus;

    public Memory<byte> Region(int offset, int length) => Rented.AsMemory(offset, length);

    /// <summary>Rents the request's memory (zeroed, so nothing of an earlier request leaks).</summary>
    public void RentBuffer(int length)
    {
        if (length == 0) return;
        Rented = ArrayPool<byte>.Shared.Rent(length);
        Array.Clear(Rented, 0, length);
    }

    /// <summary>Sends the IRP to the top of the stack and lets the request finish when it can.</summary>
    public void Start(DeviceObject device)
    {
        _stage = 2;
        _replied = 0;
        Irp.CompletionSink = this;
        var status = io.SendIrp(device, Irp, Process, Thread);
        _dispatchStatus = status;
        if (status != NtStatus.STATUS_PENDING && Volatile.Read(ref Irp.CompletedFlag) == 0)
        {
            // The driver returned a final status without completing the IRP. Windows returns that
            // status at once and never writes the caller's memory; do the same.
            SendReply(status, completed: false);
        }
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    public void OnIrpCompleted(Irp irp)
    {
        if (Interlocked.Decrement(ref _stage) == 0) Finish();
    }

    private void Finish()
    {
        var final = _dispatchStatus == NtStatus.STATUS_PENDING ? Irp.IoStatus.Status : _dispatchStatus;
        SendReply(final, completed: true);
        Release();
    }

    private void SendReply(NtStatus final, bool completed)
    {
        if (Interlocked.Exchange(ref _replied, 1) != 0) return;
        var status = Irp.IoStatus.Status;
        var information = Math.Max(0, Irp.IoStatus.Information);
        var iosb = new IoStatusWire(status, 0, information);
        switch (Kind)
        {
            case IoRequestKind.Create:
                FinishCreate(final, completed, iosb);
                break;
            case IoRequestKind.Housekeeping:
                break;
            default:
                FinishTransfer(final, completed, iosb);
                break;
        }
    }

    private void FinishCreate(NtStatus final, bool completed, IoStatusWire iosb)
    {
        if (!Reply.IsValid) return;
        if (completed && final.IsSuccess)
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

    private void FinishTransfer(NtStatus final, bool completed, IoStatusWire iosb)
    {
        var status = (NtStatus)iosb.Status;
        var flags = IoReplyFlags.None;
        ReadOnlySpan<byte> data = default;
        if (completed)
        {
            // Synchronous file: the IOSB is written unless the status is an error; a query the
            // I/O manager waited on (IRP_SYNCHRONOUS_API) that pended writes it whatever the status.
            var synchronousApi = (Irp.Flags & IrpFlags.IRP_SYNCHRONOUS_API) != 0 && _dispatchStatus == NtStatus.STATUS_PENDING;
            if (!status.IsError || synchronousApi) flags |= IoReplyFlags.IosbWritten;
            if (WholeOutputGoesBack && OutputLength > 0)
            {
                data = Rented.AsSpan(OutputOffset, OutputLength);
                flags |= IoReplyFlags.OutputWritten;
            }
            else if (BufferedCopyBack && !status.IsError)
            {
                var copy = (int)Math.Min(iosb.Information, OutputLength);
                if (iosb.Information > OutputLength) io.ReportOvercopy(File, Irp, iosb.Information, OutputLength);
                data = Rented.AsSpan(OutputOffset, copy);
                flags |= IoReplyFlags.OutputWritten;
            }
            if (AdvancesPosition && status.IsSuccess) File.CurrentByteOffset += iosb.Information;
        }
        if (Reply.IsValid) Reply.Send(final, new IoTransferReply(iosb, flags, (uint)data.Length), data);
    }

    private void Release()
    {
        if (Rented is not null) ArrayPool<byte>.Shared.Return(Rented);
        Rented = null;
        var file = File;
        var irp = Irp;
        var housekeepingClose = Kind == IoRequestKind.Housekeeping && irp.StackCount > 0 && IsCloseIrp;
        File = null!;
        Irp = null!;
        Process = null;
        Thread = null;
        Reply = default;
        OutputOffset = OutputLength = 0;
        WholeOutputGoesBack = BufferedCopyBack = AdvancesPosition = false;
        IsCloseIrp = false;
        io.FreeIrp(irp);
        // The request's reference on the file (a CLOSE IRP has none: the file is being deleted).
        if (!housekeepingClose) io.ObjectManager.Dereference(file);
        io.ReturnRequest(this);
    }

    /// <summary>The IRP is IRP_MJ_CLOSE (which holds no reference on its file).</summary>
    public bool IsCloseIrp;
}
