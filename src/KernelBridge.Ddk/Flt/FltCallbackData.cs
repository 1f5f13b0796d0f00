using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>FLT_CALLBACK_DATA flags.</summary>
[Flags]
public enum FltCallbackDataFlags : uint
{
    None = 0,
    FLTFL_CALLBACK_DATA_IRP_OPERATION = 0x00000001,
    /// <summary>A filter changed the parameters (<see cref="Flt.SetCallbackDataDirty"/>): they go down to the next instance and the file system.</summary>
    FLTFL_CALLBACK_DATA_DIRTY = 0x80000000,
}

/// <summary>FLT_IO_PARAMETER_BLOCK: the operation as the instances see it.</summary>
public sealed class FltIoParameterBlock
{
    public IrpMajorFunction MajorFunction { get; internal set; }
    public byte MinorFunction { get; internal set; }
    public IrpFlags IrpFlags { get; internal set; }
    public FileObject? TargetFileObject { get; internal set; }

    /// <summary>The instance the operation is at now (it changes as the operation moves down).</summary>
    public FltInstance? TargetInstance { get; internal set; }

    /// <summary>The parameters (the IRP's stack location's); a filter that changes them calls <see cref="Flt.SetCallbackDataDirty"/>.</summary>
    public StackParameters Parameters;
}

/// <summary>
/// FLT_CALLBACK_DATA: one I/O operation on its way through the instances of a volume. The same
/// object goes to every pre- and post-operation callback of the operation.
/// </summary>
public class FltCallbackData
{
    internal FltCallbackData(Irp irp, IoStackLocation stack, KernelObject? requestorProcess, int requestorProcessId)
    {
        Irp = irp;
        RequestorProcess = requestorProcess;
        RequestorProcessId = requestorProcessId;
        Flags = FltCallbackDataFlags.FLTFL_CALLBACK_DATA_IRP_OPERATION;
        Iopb.MajorFunction = stack.MajorFunction;
        Iopb.MinorFunction = stack.MinorFunction;
        Iopb.IrpFlags = irp.Flags;
        Iopb.TargetFileObject = stack.FileObject;
        Iopb.Parameters = stack.Parameters;
    }

    internal Irp Irp { get; }

    public FltIoParameterBlock Iopb { get; } = new();

    /// <summary>The operation's status: set by a pre-callback that completes it, and the final one in a post-callback (which may change it).</summary>
    public IoStatusBlock IoStatus;

    public FltCallbackDataFlags Flags { get; internal set; }

    public ProcessorMode RequestorMode => Irp.RequestorMode;

    /// <summary>The process that issued the operation (PEPROCESS), or null for the kernel's own.</summary>
    internal KernelObject? RequestorProcess { get; }

    /// <summary>The pid of the process that issued the operation (0 for the kernel's own).</summary>
    internal int RequestorProcessId { get; }

    /// <summary>
    /// The operation's data buffer, however the file system takes it (its MDL, system buffer or
    /// user buffer): what a read fills and a write carries. Empty for operations without one.
    /// </summary>
    public Memory<byte> Buffer => Irp.MdlAddress?.Memory ?? (Irp.SystemBuffer.IsEmpty ? Irp.UserBuffer : Irp.SystemBuffer);

    public override string ToString() => $"{Iopb.MajorFunction} {Iopb.TargetFileObject} {IoStatus}";
}
