using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>NtQueryInformationFile and NtSetInformationFile.</summary>
internal sealed partial class SystemServices
{
    /// <summary>The smallest buffer each class accepts (IopQueryOperationLength); 0 = not a query class.</summary>
    private static int MinimumQueryLength(FileInformationClass informationClass) => informationClass switch
    {
        FileInformationClass.FileBasicInformation => 40,
        FileInformationClass.FileStandardInformation => 24,
        FileInformationClass.FileInternalInformation => 8,
        FileInformationClass.FileEaInformation => 4,
        FileInformationClass.FileAccessInformation => 4,
        FileInformationClass.FileNameInformation => 8,
        FileInformationClass.FilePositionInformation => 8,
        FileInformationClass.FileModeInformation => 4,
        FileInformationClass.FileAlignmentInformation => 4,
        FileInformationClass.FileAllInformation => 104,
        _ => 0,
    };

    /// <summary>
    /// NtQueryInformationFile: the class and length are checked first; access, mode, position and
    /// alignment the I/O manager answers itself; the rest goes to the driver as IRP_MJ_QUERY_INFORMATION.
    /// </summary>
    public void NtQueryInformationFile(in SyscallContext context, in NtQueryInformationFileRequest request)
    {
        var informationClass = (FileInformationClass)request.FileInformationClass;
        var minimum = request.FileInformationClass >= (uint)FileInformationClass.FileMaximumInformation ? 0 : MinimumQueryLength(informationClass);
        var checkedStatus = CheckInformationLength(minimum, request.Length);
        if (RefusedIo(context, checkedStatus)) return;
        // IopQueryOperationAccess: basic (and all) information needs FILE_READ_ATTRIBUTES.
        var access = informationClass is FileInformationClass.FileBasicInformation or FileInformationClass.FileAllInformation
            ? AccessMask.FILE_READ_ATTRIBUTES : 0;
        using var file = Reference<IoFileObject>(context, request.Handle, access, ObjectTypes.File);
        if (RefusedIo(context, file.Status)) return;

        Span<byte> answer = stackalloc byte[8];
        var answered = informationClass switch
        {
            FileInformationClass.FileAccessInformation => Write(answer, file.GrantedAccess),
            FileInformationClass.FileModeInformation => Write(answer, file.Value.Mode
                & (uint)(CreateOptions.FILE_WRITE_THROUGH | CreateOptions.FILE_SEQUENTIAL_ONLY | CreateOptions.FILE_NO_INTERMEDIATE_BUFFERING
                    | CreateOptions.FILE_SYNCHRONOUS_IO_ALERT | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT)),
            // Only a synchronous file has a position the I/O manager keeps.
            FileInformationClass.FilePositionInformation when file.Value.IsSynchronous => Write(answer, file.Value.CurrentByteOffset),
            FileInformationClass.FileAlignmentInformation => Write(answer, 0u),
            _ => 0,
        };
        if (answered > 0)
        {
            AnswerIo(context, answer[..answered], answered);
            return;
        }

        var parameters = new StackParameters { QueryFile = new QueryFileParameters { Length = (int)request.Length, FileInformationClass = informationClass } };
        StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_QUERY_INFORMATION, (int)request.Length, default, request.Buffer, parameters,
            context.Reply.IoSink, context.Reply.IoTag);
    }

    /// <summary>An I/O service the I/O manager answers itself: success, <paramref name="output"/> into the caller's buffer, the IOSB {0, Information}.</summary>
    private static void AnswerIo(in SyscallContext context, ReadOnlySpan<byte> output, long information)
    {
        var iosb = new IoStatusWire(NtStatus.STATUS_SUCCESS, 0, information);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new IoTransferReply(iosb, IoReplyFlags.IosbWritten | IoReplyFlags.OutputWritten, (uint)output.Length),
            output);
    }

    /// <summary>
    /// A buffered query or set the I/O manager waits for on any file (IopQueryXxxInformation,
    /// NtQueryVolumeInformationFile, NtSetVolumeInformationFile), IRP_SYNCHRONOUS_API on an
    /// overlapped one: a zeroed system buffer of <paramref name="length"/> bytes starting with
    /// <paramref name="input"/>. A query (IRP_INPUT_OPERATION) copies Information bytes back unless
    /// the status is an error. The request takes over <paramref name="file"/>'s reference.
    /// </summary>
    private void StartWaitedRequest(in SyscallContext context, IoFileObject file, IrpMajorFunction major, int length, ReadOnlySpan<byte> input,
        ulong userBuffer, in StackParameters parameters, IIoCompletionTarget target, ulong tag)
    {
        var query = major is IrpMajorFunction.IRP_MJ_QUERY_INFORMATION or IrpMajorFunction.IRP_MJ_QUERY_VOLUME_INFORMATION;
        var irp = _io.BuildFileIrp(file, major, context.Thread, out var top);
        var pending = _io.RentRequest(query ? IoRequestKind.QueryInformation : IoRequestKind.SetInformation);
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file;
        pending.Irp = irp;
        pending.Top = top;
        pending.Target = target;
        pending.Tag = tag;
        pending.RentBuffer(length);
        input.CopyTo(pending.Rented);
        irp.SystemBuffer = length == 0 ? default : pending.Region(0, length);
        irp.UserBufferAddress = userBuffer;
        irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | (query ? IrpFlags.IRP_INPUT_OPERATION : IrpFlags.None);
        // The I/O manager waits on an overlapped file too, and says so on the IRP.
        if (!file.IsSynchronous) irp.Flags |= IrpFlags.IRP_SYNCHRONOUS_API;
        pending.BufferedCopyBack = query;
        pending.OutputLength = query ? length : 0;
        irp.StackAt(irp.CurrentLocation - 1).Parameters = parameters;
        pending.Start();
    }

    /// <summary>
    /// The checks every information service starts with, before the handle: the class is one it
    /// knows (a nonzero <paramref name="minimum"/>, else STATUS_INVALID_INFO_CLASS), the buffer
    /// holds the class's structure (else STATUS_INFO_LENGTH_MISMATCH), and a transfer can carry it.
    /// </summary>
    private static NtStatus CheckInformationLength(int minimum, uint length) =>
        minimum == 0 ? NtStatus.STATUS_INVALID_INFO_CLASS
        : length < minimum ? NtStatus.STATUS_INFO_LENGTH_MISMATCH
        : length > WireProtocol.MaxTransferLength ? NtStatus.STATUS_INSUFFICIENT_RESOURCES
        : NtStatus.STATUS_SUCCESS;

    private static int Write<T>(Span<byte> destination, T value) where T : unmanaged
    {
        MemoryMarshal.Write(destination, in value);
        return System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }

    /// <summary>
    /// NtSetInformationFile for the classes the I/O manager owns: FileCompletionInformation (associate
    /// a completion port and key, once, overlapped files only), FileIoCompletionNotificationInformation
    /// (modes only ever added) and FilePositionInformation.
    /// </summary>
    public void NtSetInformationFile(in SyscallContext context, in NtSetInformationFileRequest request, NtSetInformationFileRequest.Data data)
    {
        var information = data.Information;
        if (IsDriverSetClass(request.FileInformationClass))
        {
            SetInformationThroughDriver(context, request, information);
            return;
        }
        var informationClass = (FileInformationClass)request.FileInformationClass;
        var minimum = informationClass switch
        {
            FileInformationClass.FileCompletionInformation => 16,
            FileInformationClass.FileIoCompletionNotificationInformation => 4,
            FileInformationClass.FilePositionInformation => 8,
            _ => 0,
        };
        var checkedStatus = CheckInformationLength(minimum, (uint)information.Length);
        if (RefusedIo(context, checkedStatus)) return;
        using var file = Reference<IoFileObject>(context, request.Handle, 0, ObjectTypes.File);
        var status = file.Status;
        if (status.IsSuccess)
        {
            switch (informationClass)
            {
                case FileInformationClass.FileCompletionInformation:
                    status = AssociatePort(context, file.Value, MemoryMarshal.Read<long>(information), MemoryMarshal.Read<ulong>(information[8..]));
                    break;
                case FileInformationClass.FileIoCompletionNotificationInformation:
                    var modes = MemoryMarshal.Read<uint>(information);
                    status = (modes & ~7u) != 0 ? NtStatus.STATUS_INVALID_PARAMETER : _io.AddCompletionModes(file.Value, (CompletionModes)modes);
                    break;
                default:
                    var position = MemoryMarshal.Read<long>(information);
                    if (position < 0) status = NtStatus.STATUS_INVALID_PARAMETER;
                    else file.Value.CurrentByteOffset = position;
                    break;
            }
        }
        if (!status.IsSuccess) FailIo(context, status);
        else SucceedWithIosb(context, NtStatus.STATUS_SUCCESS);
    }

    private NtStatus AssociatePort(in SyscallContext context, IoFileObject file, long portHandle, ulong key)
    {
        // A synchronous file completes inline; there is nothing a port could be told.
        if (file.IsSynchronous) return NtStatus.STATUS_INVALID_PARAMETER;
        using var port = Reference<KQueue>(context, portHandle, AccessMask.IO_COMPLETION_MODIFY_STATE, ObjectTypes.IoCompletion);
        return port.Status.IsSuccess ? _io.AssociateCompletionPort(file, port.Value, key) : port.Status;
    }
}
