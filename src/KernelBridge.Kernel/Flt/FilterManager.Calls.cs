namespace KernelBridge.Kernel.Flt;

/// <summary>What a minifilter calls during an operation: resuming pended ones, I/O below its instance, its contexts.</summary>
internal sealed partial class FilterManager
{
    /// <summary>How long the filter manager waits for a file system to answer an IRP it sent itself.</summary>
    private static readonly TimeSpan KernelIrpLimit = TimeSpan.FromSeconds(30);

    public void CompletePendedPreOperation(FltCallbackData data, FltPreopCallbackStatus callbackStatus, object? context) =>
        Operation(data).ResumePre(callbackStatus, context);

    public void CompletePendedPostOperation(FltCallbackData data) => Operation(data).ResumePost();

    private static FilterOperation Operation(FltCallbackData data) =>
        data as FilterOperation ?? throw new ArgumentException("the callback data did not come from the filter manager", nameof(data));

    /// <summary>FltCancelFileOpen: the file system below sees CLEANUP and CLOSE for an open it granted.</summary>
    public void CancelFileOpen(FltInstance instance, FileObject fileObject)
    {
        var frame = Frame(instance);
        SendBelow(frame, null, fileObject, IrpMajorFunction.IRP_MJ_CLEANUP, default, default);
        SendBelow(frame, null, fileObject, IrpMajorFunction.IRP_MJ_CLOSE, default, default);
    }

    /// <summary>FltReadFile: through the instances below the caller's, then the file system; the file's position does not move.</summary>
    public NtStatus ReadFile(FltInstance instance, FileObject fileObject, long byteOffset, Memory<byte> buffer, out int bytesRead)
    {
        bytesRead = 0;
        var frame = Frame(instance);
        var parameters = new StackParameters { Read = new ReadWriteParameters { Length = buffer.Length, ByteOffset = byteOffset } };
        // As FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET: the caller's file position stays where it was.
        var position = fileObject.CurrentByteOffset;
        var result = SendBelow(frame, (FilterInstance)instance, fileObject, IrpMajorFunction.IRP_MJ_READ, parameters, buffer);
        fileObject.CurrentByteOffset = position;
        if (result.Status.IsSuccess) bytesRead = (int)Math.Min(result.Information, buffer.Length);
        return result.Status;
    }

    /// <summary>
    /// An IRP of the filter manager's own: into the frame below <paramref name="issuer"/> (or, with
    /// none, straight to the file system), synchronously, in the context of the operation that asked.
    /// </summary>
    private IoStatusBlock SendBelow(VolumeFrame frame, FilterInstance? issuer, FileObject file, IrpMajorFunction major, StackParameters parameters,
        Memory<byte> buffer)
    {
        var target = issuer is null ? frame.Lower : frame.Device;
        var irp = io.AllocateIrp(target.StackSize);
        irp.OriginalFileObject = file;
        irp.RequestorMode = ProcessorMode.KernelMode;
        irp.Flags = IrpFlags.IRP_SYNCHRONOUS_API | major switch
        {
            IrpMajorFunction.IRP_MJ_READ => IrpFlags.IRP_READ_OPERATION | IrpFlags.IRP_NOCACHE,
            IrpMajorFunction.IRP_MJ_CLOSE => IrpFlags.IRP_CLOSE_OPERATION,
            _ => IrpFlags.None,
        };
        if (!buffer.IsEmpty)
        {
            if ((target.Flags & DeviceFlags.DO_DIRECT_IO) != 0) irp.MdlAddress = new Mdl(buffer, 0);
            else if ((target.Flags & DeviceFlags.DO_BUFFERED_IO) != 0) irp.SystemBuffer = buffer;
            else irp.UserBuffer = buffer;
        }
        irp.DriverContext[0] = issuer;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.MajorFunction = major;
        stack.FileObject = file;
        stack.Parameters = parameters;
        var waiter = new KernelIrpWaiter(io);
        irp.CompletionSink = waiter;
        using (KernelRuntime.Enter(Runtime)) io.CallDriver(target, irp);
        var status = waiter.Wait(KernelIrpLimit);
        return status == NtStatus.STATUS_IO_TIMEOUT ? new IoStatusBlock { Status = status } : waiter.Result;
    }

    public NtStatus GetContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? context) =>
        Frame(instance).Contexts.Get((FilterInstance)instance, fileObject, type, out context);

    public NtStatus SetContext(FltInstance instance, FileObject fileObject, FltContextType type, FltSetContextOperation operation, object newContext,
        out object? oldContext)
    {
        ArgumentNullException.ThrowIfNull(newContext);
        var status = Frame(instance).Contexts.Set((FilterInstance)instance, fileObject, type, operation, newContext, out oldContext, out var replaced);
        replaced?.RunCleanup();
        return status;
    }

    public NtStatus DeleteContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? oldContext)
    {
        var status = Frame(instance).Contexts.Delete((FilterInstance)instance, fileObject, type, out oldContext, out var released);
        released?.RunCleanup();
        return status;
    }

    private static VolumeFrame Frame(FltInstance instance) =>
        (instance as FilterInstance ?? throw new ArgumentException("not an instance of this kernel's filter manager", nameof(instance))).Frame;
}
