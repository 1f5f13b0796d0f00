using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Io;

/// <summary>The access an operation needs on the file handle: all of <paramref name="All"/>, and at least one of <paramref name="Any"/> (if any).</summary>
internal readonly record struct FileAccessRule(uint All, uint Any = 0)
{
    public bool GrantedBy(uint granted) => (granted & All) == All && (Any == 0 || (granted & Any) != 0);
}

/// <summary>Who the caller asked to hear of an I/O request's completion (NtReadFile's Event, ApcRoutine, ApcContext, IoStatusBlock).</summary>
internal readonly record struct CompletionRequest(long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock);

internal sealed partial class IoManager
{
    public IoRequest RentRequest(IoRequestKind kind)
    {
        var request = _requests.Allocate();
        request.Kind = kind;
        return request;
    }

    public void ReturnRequest(IoRequest request) => _requests.Free(request);

    /// <summary>Builds an IRP for a file object: a stack as deep as the device's, the file in the first location.</summary>
    public Irp BuildFileIrp(FileObject file, IrpMajorFunction major, ThreadObject? thread, out DeviceObject top)
    {
        top = GetAttachedDevice(file.DeviceObject);
        var irp = AllocateIrp(top.StackSize);
        irp.OriginalFileObject = file;
        irp.ThreadId = thread?.ThreadId ?? 0;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.MajorFunction = major;
        stack.FileObject = file;
        return irp;
    }

    /// <summary>
    /// The common start of NtReadFile, NtWriteFile and NtDeviceIoControlFile (IopXxxControlFile):
    /// the file by handle, the access the operation needs, an overlapped read or write's explicit
    /// offset, the completion the caller asked for (its event referenced and reset, an APC or the
    /// file's port), then an IRP and the request that carries it. On failure nothing stays referenced.
    /// </summary>
    public NtStatus BeginFileRequest(ProcessObject process, ThreadObject thread, long handle, IrpMajorFunction major, IoRequestKind kind,
        FileAccessRule access, bool offsetMissing, in CompletionRequest completion, out IoRequest? request)
    {
        request = null;
        using var file = _ob.ReferenceByHandle<IoFileObject>(process, thread, handle, 0, ObjectTypes.File, ProcessorMode.UserMode);
        if (!file.Status.IsSuccess) return file.Status;
        if (!access.GrantedBy(file.GrantedAccess)) return NtStatus.STATUS_ACCESS_DENIED;
        // An asynchronous file has no current position: the caller must say where.
        if (offsetMissing && !file.Value.IsSynchronous) return NtStatus.STATUS_INVALID_PARAMETER;
        var status = BindCompletion(process, thread, file.Value, completion, out var kevent);
        if (!status.IsSuccess) return status;

        var irp = BuildFileIrp(file.Value, major, thread, out var top);
        request = RentRequest(kind);
        request.Process = process;
        request.Thread = thread;
        request.File = file.Share();
        request.Irp = irp;
        request.Top = top;
        request.Event = kevent;
        request.ApcRoutine = completion.ApcRoutine;
        request.ApcContext = completion.ApcContext;
        request.IoStatusBlock = completion.IoStatusBlock;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// Checks who will hear of the completion, as IopXxxControlFile does before building the IRP: an
    /// APC and a completion port are either-or; the caller's event is referenced (and reset), and so is the file's.
    /// </summary>
    private NtStatus BindCompletion(ProcessObject process, ThreadObject thread, IoFileObject file, in CompletionRequest completion, out KEvent? kevent)
    {
        kevent = null;
        if (completion.ApcRoutine != 0 && file.Port is not null) return NtStatus.STATUS_INVALID_PARAMETER;
        if (completion.Event != 0)
        {
            using var referenced = _ob.ReferenceByHandle<KEvent>(process, thread, completion.Event, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event, ProcessorMode.UserMode);
            if (!referenced.Status.IsSuccess) return referenced.Status;
            kevent = referenced.Share();
            Dispatcher.ResetEvent(kevent);
        }
        Dispatcher.ResetEvent(file.Event);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The caller has its handle to a file the driver accepted: the file is signalled (no I/O outstanding).</summary>
    public void HandleCreated(IoFileObject file)
    {
        file.Flags |= FileObjectFlags.FO_HANDLE_CREATED;
        Dispatcher.SetEvent(file.Event);
    }

    /// <summary>The driver accepted an open but no handle could be made (the process is going): it still sees CLEANUP, then CLOSE.</summary>
    public void AbandonOpen(IoFileObject file, ProcessObject process) => SendHousekeepingIrp(file, IrpMajorFunction.IRP_MJ_CLEANUP, process);

    /// <summary>IRP_MJ_CLEANUP or IRP_MJ_CLOSE, sent by the I/O manager itself (no caller waits on the result).</summary>
    public void SendHousekeepingIrp(IoFileObject file, IrpMajorFunction major, ProcessObject? process)
    {
        var isClose = major == IrpMajorFunction.IRP_MJ_CLOSE;
        if (!isClose) ObjectManager.Reference(file);
        var irp = BuildFileIrp(file, major, null, out var top);
        irp.RequestorMode = ProcessorMode.KernelMode;
        irp.Flags = isClose ? IrpFlags.IRP_CLOSE_OPERATION | IrpFlags.IRP_SYNCHRONOUS_API : IrpFlags.IRP_SYNCHRONOUS_API;
        var request = RentRequest(IoRequestKind.Housekeeping);
        request.Process = process;
        request.File = file;
        request.Irp = irp;
        request.Top = top;
        request.IsCloseIrp = isClose;
        request.Start();
    }

    /// <summary>IoQueueWorkItem: on a worker thread; the device (and so its driver) stays referenced until the routine returns.</summary>
    public void QueueWorkItem(IoWorkItem item, IoWorkItemRoutine routine, object? context)
    {
        ObjectManager.Reference(item.Device);
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            using var scope = KernelRuntime.Enter(Runtime);
            try
            {
                routine(item.Device, context);
            }
            catch (Exception e)
            {
                DriverFault(item.Device.DriverObject, null, e, "exception in a work item");
            }
            finally
            {
                _ob.Dereference(item.Device);
            }
        }, null);
    }

    /// <summary>
    /// A driver reported more bytes than the caller's buffer holds. Windows would copy them all and
    /// overrun the caller; KernelBridge copies what fits and says so.
    /// </summary>
    public void ReportOvercopy(FileObject file, Irp irp, long information, int outputLength) =>
        LogOvercopy(file.DeviceObject.DriverObject.DriverName, information, outputLength);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning,
        Message = "driver verifier: {Driver} completed a buffered request with Information {Information} but the output buffer holds {Length}; copied {Length} bytes (Windows would overrun the caller's buffer)")]
    private partial void LogOvercopy(string driver, long information, int length);
}
