using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ps;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoManager
{
    private readonly Stack<IoRequest> _requestPool = new();

    public IoRequest RentRequest(IoRequestKind kind)
    {
        IoRequest? request = null;
        lock (_requestPool)
        {
            if (_requestPool.Count > 0) request = _requestPool.Pop();
        }
        request ??= new IoRequest(this);
        request.Kind = kind;
        return request;
    }

    public void ReturnRequest(IoRequest request)
    {
        lock (_requestPool)
        {
            if (_requestPool.Count < 256) _requestPool.Push(request);
        }
    }

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

    /// <summary>IRP_MJ_CLEANUP or IRP_MJ_CLOSE, sent by the I/O manager itself (no caller waits on the result).</summary>
    public void SendHousekeepingIrp(IoFileObject file, IrpMajorFunction major, ProcessObject? process)
    {
        var isClose = major == IrpMajorFunction.IRP_MJ_CLOSE;
        if (!isClose) Ob.ObjectManager.Reference(file);
        var irp = BuildFileIrp(file, major, null, out var top);
        irp.RequestorMode = ProcessorMode.KernelMode;
        irp.Flags = isClose ? IrpFlags.IRP_CLOSE_OPERATION | IrpFlags.IRP_SYNCHRONOUS_API : IrpFlags.IRP_SYNCHRONOUS_API;
        var request = RentRequest(IoRequestKind.Housekeeping);
        request.Process = process;
        request.File = file;
        request.Irp = irp;
        request.IsCloseIrp = isClose;
        request.Start(top);
    }

    /// <summary>IoQueueWorkItem: on a worker thread; the device (and so its driver) stays referenced until the routine returns.</summary>
    public void QueueWorkItem(IoWorkItem item, IoWorkItemRoutine routine, object? context)
    {
        Ob.ObjectManager.Reference(item.Device);
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
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
                ObjectManager.Dereference(item.Device);
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
