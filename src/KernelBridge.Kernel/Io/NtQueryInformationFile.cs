using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    /// <summary>The smallest buffer each class accepts (IopQueryOperationLength); 0 = not a query class.</summary>
    private static int MinimumLength(FileInformationClass informationClass) => informationClass switch
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
    private void NtQueryInformationFile(in SyscallContext context, in NtQueryInformationFileRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtQueryInformationFile");
        var informationClass = (FileInformationClass)request.FileInformationClass;
        var minimum = request.FileInformationClass >= (uint)FileInformationClass.FileMaximumInformation ? 0 : MinimumLength(informationClass);
        if (minimum == 0)
        {
            Fail(context, NtStatus.STATUS_INVALID_INFO_CLASS);
            return;
        }
        if (request.Length < minimum)
        {
            Fail(context, NtStatus.STATUS_INFO_LENGTH_MISMATCH);
            return;
        }
        if (request.Length > WireProtocol.MaxTransferLength)
        {
            Fail(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        // IopQueryOperationAccess: basic (and all) information needs FILE_READ_ATTRIBUTES.
        var access = informationClass is FileInformationClass.FileBasicInformation or FileInformationClass.FileAllInformation
            ? AccessMask.FILE_READ_ATTRIBUTES : 0;
        var status = ReferenceFile(context, request.Handle, access, out var file, out var granted);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }

        Span<byte> answer = stackalloc byte[8];
        var answered = informationClass switch
        {
            FileInformationClass.FileAccessInformation => Write(answer, granted),
            FileInformationClass.FileModeInformation => Write(answer, file!.Mode
                & (uint)(CreateOptions.FILE_WRITE_THROUGH | CreateOptions.FILE_SEQUENTIAL_ONLY | CreateOptions.FILE_NO_INTERMEDIATE_BUFFERING
                    | CreateOptions.FILE_SYNCHRONOUS_IO_ALERT | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT)),
            // Only a synchronous file has a position the I/O manager keeps.
            FileInformationClass.FilePositionInformation when (file!.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0 => Write(answer, file.CurrentByteOffset),
            FileInformationClass.FileAlignmentInformation => Write(answer, 0u),
            _ => 0,
        };
        if (answered > 0)
        {
            Ob.Dereference(file!);
            var iosb = new IoStatusWire(NtStatus.STATUS_SUCCESS, 0, answered);
            context.Reply.Send(NtStatus.STATUS_SUCCESS, new IoTransferReply(iosb, IoReplyFlags.IosbWritten | IoReplyFlags.OutputWritten, (uint)answered),
                answer[..answered]);
            return;
        }

        var irp = io.BuildFileIrp(file!, IrpMajorFunction.IRP_MJ_QUERY_INFORMATION, context.Thread, out var top);
        var pending = io.RentRequest(IoRequestKind.QueryInformation);
        pending.Reply = context.Reply;
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file!;
        pending.Irp = irp;
        pending.RentBuffer((int)request.Length);
        irp.SystemBuffer = pending.Region(0, (int)request.Length);
        irp.UserBufferAddress = request.Buffer;
        irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | IrpFlags.IRP_INPUT_OPERATION;
        // The I/O manager waits for a query on an overlapped file too, and says so on the IRP.
        if ((file!.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) == 0) irp.Flags |= IrpFlags.IRP_SYNCHRONOUS_API;
        pending.BufferedCopyBack = true;
        pending.OutputLength = (int)request.Length;
        irp.StackAt(irp.CurrentLocation - 1).Parameters.QueryFile = new QueryFileParameters
        {
            Length = (int)request.Length,
            FileInformationClass = informationClass,
        };
        pending.Start(top);
    }

    private static int Write<T>(Span<byte> destination, T value) where T : unmanaged
    {
        MemoryMarshal.Write(destination, in value);
        return System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }
}
