using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>IO_STACK_LOCATION: one driver's view of an IRP.</summary>
public sealed class IoStackLocation
{
    public const byte SL_PENDING_RETURNED = 0x01;
    public const byte SL_INVOKE_ON_CANCEL = 0x20;
    public const byte SL_INVOKE_ON_SUCCESS = 0x40;
    public const byte SL_INVOKE_ON_ERROR = 0x80;

    // IRP_MJ_DIRECTORY_CONTROL: Flags of IRP_MN_QUERY_DIRECTORY, and the minor functions.
    public const byte SL_RESTART_SCAN = 0x01;
    public const byte SL_RETURN_SINGLE_ENTRY = 0x02;
    public const byte SL_INDEX_SPECIFIED = 0x04;
    public const byte IRP_MN_QUERY_DIRECTORY = 0x01;
    public const byte IRP_MN_NOTIFY_CHANGE_DIRECTORY = 0x02;

    public IrpMajorFunction MajorFunction;
    public byte MinorFunction;
    public byte Flags;
    public byte Control;
    public StackParameters Parameters;
    public DeviceObject? DeviceObject;
    public FileObject? FileObject;
    public IoCompletionRoutine? CompletionRoutine;
    public object? Context;

    internal void CopyTo(IoStackLocation next)
    {
        next.MajorFunction = MajorFunction;
        next.MinorFunction = MinorFunction;
        next.Flags = Flags;
        next.Parameters = Parameters;
        next.FileObject = FileObject;
        next.Control = 0;
        next.CompletionRoutine = null;
        next.Context = null;
    }

    internal void Clear()
    {
        MajorFunction = 0;
        MinorFunction = 0;
        Flags = 0;
        Control = 0;
        Parameters = default;
        DeviceObject = null;
        FileObject = null;
        CompletionRoutine = null;
        Context = null;
    }
}

/// <summary>The Parameters union of IO_STACK_LOCATION (here, a struct of the members KernelBridge uses).</summary>
public struct StackParameters
{
    public CreateParameters Create;
    public ReadWriteParameters Read;
    public ReadWriteParameters Write;
    public DeviceIoControlParameters DeviceIoControl;
    public QueryFileParameters QueryFile;
    public VolumeParameters QueryVolume;
    public VolumeParameters SetVolume;
    public SetFileParameters SetFile;
    public QueryDirectoryParameters QueryDirectory;
}

public struct CreateParameters
{
    /// <summary>The access the caller asked for (SecurityContext->DesiredAccess).</summary>
    public uint DesiredAccess;
    public CreateOptions Options;
    public CreateDisposition Disposition;
    public uint FileAttributes;
    public ShareAccess ShareAccess;
}

public struct ReadWriteParameters
{
    public int Length;
    public uint Key;
    public long ByteOffset;
}

public struct DeviceIoControlParameters
{
    public int OutputBufferLength;
    public int InputBufferLength;
    public uint IoControlCode;
    /// <summary>METHOD_NEITHER: the caller's input buffer, as the driver sees it.</summary>
    public Memory<byte> Type3InputBuffer;
}

public struct QueryFileParameters
{
    public int Length;
    public FileInformationClass FileInformationClass;
}

/// <summary>Parameters.QueryVolume and Parameters.SetVolume: the system buffer's length and the FS_INFORMATION_CLASS.</summary>
public struct VolumeParameters
{
    public int Length;
    public FsInformationClass FsInformationClass;
}
