using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ps;

using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Services;

/// <summary>The object manager's handle services: NtClose, NtDuplicateObject, NtSetInformationObject; and directories and links.</summary>
internal sealed partial class SystemServices
{
    /// <summary>NtSetInformationObject(ObjectHandleFlagInformation): the handle's inherit and protect-from-close flags.</summary>
    public void NtSetInformationObject(in SyscallContext context, in NtSetInformationObjectRequest request)
    {
        if (request.InformationClass != (uint)ObjectInformationClass.ObjectHandleFlagInformation)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS);
            return;
        }
        var attributes = (request.Inherit != 0 ? HandleAttributes.Inherit : 0) | (request.ProtectFromClose != 0 ? HandleAttributes.ProtectFromClose : 0);
        context.Reply.Send(context.Process.Handles.SetAttributes(request.Handle, attributes) ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_INVALID_HANDLE);
    }

    public void NtClose(in SyscallContext context, in NtCloseRequest request)
    {
        var process = context.Process;
        var handle = request.Handle;
        var reply = context.Reply;
        // The last handle of a synchronous file closes after the file's I/O (IopCloseFile takes the file lock).
        if (_ob.TryDeferClose(process, handle, () => reply.Send(_ob.CloseHandle(process, handle)))) return;
        reply.Send(_ob.CloseHandle(process, handle));
    }

    public void NtDuplicateObject(in SyscallContext context, in NtDuplicateObjectRequest request)
    {
        const uint validOptions = (uint)(DuplicateOptions.DUPLICATE_CLOSE_SOURCE | DuplicateOptions.DUPLICATE_SAME_ACCESS | DuplicateOptions.DUPLICATE_SAME_ATTRIBUTES);
        if ((request.Options & ~validOptions) != 0 || (request.HandleAttributes & ~0x1FF3u) != 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new NtDuplicateObjectReply(0));
            return;
        }
        using var source = Reference<ProcessObject>(context, request.SourceProcessHandle, AccessMask.PROCESS_DUP_HANDLE, ObjectTypes.Process);
        if (Refused(context, source.Status, new NtDuplicateObjectReply(0))) return;
        // DUPLICATE_CLOSE_SOURCE with no target process only closes.
        var hasTarget = request.TargetProcessHandle != 0 || (request.Options & (uint)DuplicateOptions.DUPLICATE_CLOSE_SOURCE) == 0;
        using var target = hasTarget ? Reference<ProcessObject>(context, request.TargetProcessHandle, AccessMask.PROCESS_DUP_HANDLE, ObjectTypes.Process) : default;
        if (hasTarget && !target.Status.IsSuccess)
        {
            context.Reply.Send(target.Status, new NtDuplicateObjectReply(0));
            return;
        }
        // OBJ_PROTECT_CLOSE (0x1) and OBJ_INHERIT (0x2) are the attributes a handle keeps.
        var attributes = (HandleAttributes)(request.HandleAttributes & 0x3);
        var status = _ob.Duplicate(source.Value, request.SourceHandle, hasTarget ? target.Value : null, request.DesiredAccess, attributes,
            (DuplicateOptions)request.Options, context.Thread, out var handle);
        context.Reply.Send(status, new NtDuplicateObjectReply(handle));
    }

    public void NtOpenDirectoryObject(in SyscallContext context, in NtOpenDirectoryObjectRequest request, NtOpenDirectoryObjectRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Directory, request.DesiredAccess);

    public void NtOpenSymbolicLinkObject(in SyscallContext context, in NtOpenSymbolicLinkObjectRequest request, NtOpenSymbolicLinkObjectRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.SymbolicLink, request.DesiredAccess, openLink: true);

    public void NtQuerySymbolicLinkObject(in SyscallContext context, in NtQuerySymbolicLinkObjectRequest request)
    {
        string target;
        using (var link = Reference<SymbolicLinkObject>(context, request.Handle, AccessMask.SYMBOLIC_LINK_QUERY, ObjectTypes.SymbolicLink))
        {
            if (Refused(context, link.Status, new NtQuerySymbolicLinkObjectReply(0, 0))) return;
            target = link.Value.Target;
        }
        var bytes = (uint)target.Length * 2;
        if (request.MaximumLength < bytes + 2)
        {
            context.Reply.Send(NtStatus.STATUS_BUFFER_TOO_SMALL, new NtQuerySymbolicLinkObjectReply(bytes + 2, 0));
            return;
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQuerySymbolicLinkObjectReply(bytes + 2, bytes),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(target.AsSpan()));
    }
}
