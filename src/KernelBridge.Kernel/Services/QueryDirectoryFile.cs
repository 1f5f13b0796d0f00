using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQueryDirectoryFile (BuildQueryDirectoryIrp): the class and length checked first, then the
/// handle (FILE_LIST_DIRECTORY), then IRP_MJ_DIRECTORY_CONTROL / IRP_MN_QUERY_DIRECTORY with the
/// pattern and the SL_* flags. The entries come back through a kernel buffer of Length bytes
/// (a system buffer, an MDL or the user buffer as the device's flags say), of which Information
/// bytes are copied back unless the status is an error, so STATUS_BUFFER_OVERFLOW returns data.
/// </summary>
internal sealed partial class SystemServices
{
    private static readonly FileAccessRule ListDirectoryAccess = new(AccessMask.FILE_LIST_DIRECTORY);

    /// <summary>sizeof each listing class's structure on x64 (the name's first character included, rounded to 8); 0 = not a class NtQueryDirectoryFile serves.</summary>
    private static int MinimumDirectoryLength(FileInformationClass informationClass) => informationClass switch
    {
        FileInformationClass.FileDirectoryInformation => 72,
        FileInformationClass.FileFullDirectoryInformation => 72,
        FileInformationClass.FileBothDirectoryInformation => 96,
        FileInformationClass.FileNamesInformation => 16,
        FileInformationClass.FileIdBothDirectoryInformation => 112,
        FileInformationClass.FileIdFullDirectoryInformation => 88,
        // Classes the I/O manager knows for listings but file systems seldom serve.
        FileInformationClass.FileObjectIdInformation => 72,
        FileInformationClass.FileQuotaInformation => 56,
        FileInformationClass.FileReparsePointInformation => 16,
        _ => 0,
    };

    public void NtQueryDirectoryFile(in SyscallContext context, in NtQueryDirectoryFileRequest request, NtQueryDirectoryFileRequest.Data data)
    {
        var informationClass = (FileInformationClass)request.FileInformationClass;
        if (RefusedIo(context, CheckInformationLength(MinimumDirectoryLength(informationClass), request.Length))) return;
        if (request.Buffer == 0)
        {
            FailIo(context, NtStatus.STATUS_ACCESS_VIOLATION);
            return;
        }
        // A pattern is a counted string of UTF-16 code units; an odd byte count cannot be one.
        if (request.FileNameBytes % 2 != 0)
        {
            FailIo(context, NtStatus.STATUS_INVALID_PARAMETER);
            return;
        }
        var status = _io.BeginFileRequest(context.Process, context.Thread, request.Handle, IrpMajorFunction.IRP_MJ_DIRECTORY_CONTROL, IoRequestKind.Read,
            ListDirectoryAccess, offsetMissing: false, new CompletionRequest(request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock),
            out var pending);
        if (RefusedIo(context, status)) return;

        var call = pending!;
        var irp = call.Irp;
        call.Target = context.Reply.IoSink;
        call.Tag = context.Reply.IoTag;
        irp.UserBufferAddress = request.Buffer;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.MinorFunction = IoStackLocation.IRP_MN_QUERY_DIRECTORY;
        stack.Flags = (byte)(((request.Flags & QueryDirectoryFlags.RestartScan) != 0 ? IoStackLocation.SL_RESTART_SCAN : 0)
            | ((request.Flags & QueryDirectoryFlags.ReturnSingleEntry) != 0 ? IoStackLocation.SL_RETURN_SINGLE_ENTRY : 0));
        stack.Parameters.QueryDirectory = new QueryDirectoryParameters
        {
            Length = (int)request.Length,
            FileInformationClass = informationClass,
            FileName = (request.Flags & QueryDirectoryFlags.HasFileName) != 0 ? new string(data.FileName) : null,
        };

        var length = (int)request.Length;
        call.RentBuffer(length);
        call.Rented.AsSpan(0, length).Clear();
        var region = call.Region(0, length);
        var deviceFlags = call.Top.Flags;
        if ((deviceFlags & DeviceFlags.DO_BUFFERED_IO) != 0)
        {
            irp.SystemBuffer = region;
            irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | IrpFlags.IRP_INPUT_OPERATION;
        }
        else if ((deviceFlags & DeviceFlags.DO_DIRECT_IO) != 0) irp.MdlAddress = new Mdl(region, request.Buffer);
        else irp.UserBuffer = region;
        // The caller's buffer did not travel: only the bytes the driver reports are meaningful.
        call.BufferedCopyBack = true;
        call.OutputOffset = 0;
        call.OutputLength = length;
        call.Start();
    }
}
