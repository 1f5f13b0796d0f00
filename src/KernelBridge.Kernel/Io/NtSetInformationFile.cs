using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    /// <summary>
    /// NtSetInformationFile for the classes the I/O manager owns: FileCompletionInformation (associate
    /// a completion port and key, once, overlapped files only), FileIoCompletionNotificationInformation
    /// (modes only ever added) and FilePositionInformation.
    /// </summary>
    private void NtSetInformationFile(in SyscallContext context, in NtSetInformationFileRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var information = reader.Take(request.Length, "FileInformation");
        reader.EnsureEnd("NtSetInformationFile");
        var informationClass = (FileInformationClass)request.FileInformationClass;
        var minimum = informationClass switch
        {
            FileInformationClass.FileCompletionInformation => 16,
            FileInformationClass.FileIoCompletionNotificationInformation => 4,
            FileInformationClass.FilePositionInformation => 8,
            _ => 0,
        };
        if (minimum == 0)
        {
            Fail(context, NtStatus.STATUS_INVALID_INFO_CLASS);
            return;
        }
        if (information.Length < minimum)
        {
            Fail(context, NtStatus.STATUS_INFO_LENGTH_MISMATCH);
            return;
        }
        var status = ReferenceFile(context, request.Handle, 0, out var file, out _);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        try
        {
            var state = file!;
            switch (informationClass)
            {
                case FileInformationClass.FileCompletionInformation:
                    status = Associate(context, file!, state, MemoryMarshal.Read<long>(information), MemoryMarshal.Read<ulong>(information[8..]));
                    break;
                case FileInformationClass.FileIoCompletionNotificationInformation:
                    var modes = MemoryMarshal.Read<uint>(information);
                    if ((modes & ~7u) != 0) status = NtStatus.STATUS_INVALID_PARAMETER;
                    else state.Modes |= (CompletionModes)modes;
                    break;
                default:
                    var position = MemoryMarshal.Read<long>(information);
                    if (position < 0) status = NtStatus.STATUS_INVALID_PARAMETER;
                    else file!.CurrentByteOffset = position;
                    break;
            }
        }
        finally
        {
            Ob.Dereference(file!);
        }
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var iosb = new IoStatusWire(NtStatus.STATUS_SUCCESS, 0, 0);
        context.Reply.Send(status, new IoTransferReply(iosb, IoReplyFlags.IosbWritten, 0));
    }

    private NtStatus Associate(in SyscallContext context, IoFileObject file, IoFileObject state, long portHandle, ulong key)
    {
        // A synchronous file completes inline; there is nothing a port could be told.
        if ((file.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0) return NtStatus.STATUS_INVALID_PARAMETER;
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, portHandle, AccessMask.IO_COMPLETION_MODIFY_STATE,
            ObjectTypes.IoCompletion, ProcessorMode.UserMode, out var obj, out _);
        if (!status.IsSuccess) return status;
        lock (state)
        {
            if (state.Port is not null)
            {
                // One port per file, for the file's life.
                Ob.Dereference(obj!);
                return NtStatus.STATUS_INVALID_PARAMETER;
            }
            state.Port = (KQueue)obj!;
            state.Key = key;
        }
        return NtStatus.STATUS_SUCCESS;
    }
}
