using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Io;

/// <summary>The I/O system services (NtCreateFile, NtReadFile, ...), one file each, sharing this class.</summary>
internal sealed partial class IoServices(IoManager io)
{
    private ObjectManager Ob => io.ObjectManager;

    public void Register(ServiceTable table)
    {
        table.Register<NtCreateFileRequest, NtCreateFileReply>(NtCreateFile);
        table.Register<NtReadFileRequest, IoTransferReply>(NtReadFile);
        table.Register<NtWriteFileRequest, IoTransferReply>(NtWriteFile);
        table.Register<NtDeviceIoControlFileRequest, IoTransferReply>(NtDeviceIoControlFile);
        table.Register<NtQueryInformationFileRequest, IoTransferReply>(NtQueryInformationFile);
        table.Register<NtSetInformationFileRequest, IoTransferReply>(NtSetInformationFile);
        table.Register<NtCancelIoFileRequest, IoTransferReply>(NtCancelIoFile);
        table.Register<NtCancelIoFileExRequest, IoTransferReply>(NtCancelIoFileEx);
        table.Register<NtCancelSynchronousIoFileRequest, IoTransferReply>(NtCancelSynchronousIoFile);
    }

    /// <summary>Resolves a handle to a file object with the access asked for; referenced on success.</summary>
    private static NtStatus ReferenceFile(in SyscallContext context, long handle, uint access, out IoFileObject? file, out uint granted)
    {
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, handle, access, ObjectTypes.File,
            ProcessorMode.UserMode, out var obj, out granted);
        file = obj as IoFileObject;
        return status;
    }

    private static void Fail(in SyscallContext context, NtStatus status) =>
        context.Reply.Send(status, new IoTransferReply(default, IoReplyFlags.None, 0));
}
