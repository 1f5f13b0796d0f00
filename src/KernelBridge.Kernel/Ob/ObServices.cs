using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ob;

/// <summary>The object manager's system services: handles, names, directories and links.</summary>
internal sealed partial class ObServices(ObjectManager ob)
{
    public void Register(ServiceTable table)
    {
        table.Register<NtCloseRequest, EmptyReply>(NtClose);
        table.Register<NtDuplicateObjectRequest, NtDuplicateObjectReply>(NtDuplicateObject);
        table.Register<NtQueryObjectRequest, NtQueryObjectReply>(NtQueryObject);
        table.Register<NtOpenDirectoryObjectRequest, HandleReply>(NtOpenDirectoryObject);
        table.Register<NtQueryDirectoryObjectRequest, NtQueryDirectoryObjectReply>(NtQueryDirectoryObject);
        table.Register<NtOpenSymbolicLinkObjectRequest, HandleReply>(NtOpenSymbolicLinkObject);
        table.Register<NtQuerySymbolicLinkObjectRequest, NtQuerySymbolicLinkObjectReply>(NtQuerySymbolicLinkObject);
        table.Register<NtSetInformationObjectRequest, EmptyReply>(NtSetInformationObject);
    }

    /// <summary>NtSetInformationObject(ObjectHandleFlagInformation): the handle's inherit and protect-from-close flags.</summary>
    private void NtSetInformationObject(in SyscallContext context, in NtSetInformationObjectRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtSetInformationObject");
        if (request.InformationClass != (uint)ObjectInformationClass.ObjectHandleFlagInformation)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS);
            return;
        }
        var attributes = (request.Inherit != 0 ? HandleAttributes.Inherit : 0) | (request.ProtectFromClose != 0 ? HandleAttributes.ProtectFromClose : 0);
        context.Reply.Send(context.Process.Handles.SetAttributes(request.Handle, attributes) ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_INVALID_HANDLE);
    }

    private void NtClose(in SyscallContext context, in NtCloseRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtClose");
        var process = context.Process;
        var reply = context.Reply;
        var handle = request.Handle;
        if (ob.TryDeferClose(process, handle, () => reply.Send(ob.CloseHandle(process, handle)))) return;
        reply.Send(ob.CloseHandle(process, handle));
    }

    private void NtDuplicateObject(in SyscallContext context, in NtDuplicateObjectRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtDuplicateObject");
        const uint validOptions = (uint)(DuplicateOptions.DUPLICATE_CLOSE_SOURCE | DuplicateOptions.DUPLICATE_SAME_ACCESS | DuplicateOptions.DUPLICATE_SAME_ATTRIBUTES);
        if ((request.Options & ~validOptions) != 0 || (request.HandleAttributes & ~0x1FF3u) != 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new NtDuplicateObjectReply(0));
            return;
        }
        var status = ResolveProcess(context, request.SourceProcessHandle, out var source);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new NtDuplicateObjectReply(0));
            return;
        }
        ProcessObject? target = null;
        if (request.TargetProcessHandle != 0 || (request.Options & (uint)DuplicateOptions.DUPLICATE_CLOSE_SOURCE) == 0)
        {
            status = ResolveProcess(context, request.TargetProcessHandle, out target);
            if (!status.IsSuccess)
            {
                ob.Dereference(source!);
                context.Reply.Send(status, new NtDuplicateObjectReply(0));
                return;
            }
        }
        // OBJ_PROTECT_CLOSE (0x1) and OBJ_INHERIT (0x2) are the attributes a handle keeps.
        var attributes = (HandleAttributes)(request.HandleAttributes & 0x3);
        status = ob.Duplicate(source!, request.SourceHandle, target, request.DesiredAccess, attributes,
            (DuplicateOptions)request.Options, context.Thread, out var handle);
        ob.Dereference(source!);
        if (target is not null) ob.Dereference(target);
        context.Reply.Send(status, new NtDuplicateObjectReply(handle));
    }

    /// <summary>A process handle (NtCurrentProcess or a real one with PROCESS_DUP_HANDLE), referenced.</summary>
    private static NtStatus ResolveProcess(in SyscallContext context, long handle, out ProcessObject? process)
    {
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, handle, AccessMask.PROCESS_DUP_HANDLE,
            ObjectTypes.Process, ProcessorMode.UserMode, out var obj, out _);
        process = obj as ProcessObject;
        return status;
    }

    private void OpenTyped(in SyscallContext context, long root, uint desiredAccess, uint attributes, string name, ObjectType type, bool openLink)
    {
        var status = ob.OpenObjectByName(context.Process, context.Thread, root, name, attributes, type, desiredAccess, openLink, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    private void NtOpenDirectoryObject(in SyscallContext context, in NtOpenDirectoryObjectRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(request.NameBytes, "ObjectName");
        reader.EnsureEnd("NtOpenDirectoryObject");
        OpenTyped(context, request.RootDirectory, request.DesiredAccess, request.Attributes, name, ObjectTypes.Directory, openLink: false);
    }

    private void NtOpenSymbolicLinkObject(in SyscallContext context, in NtOpenSymbolicLinkObjectRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(request.NameBytes, "ObjectName");
        reader.EnsureEnd("NtOpenSymbolicLinkObject");
        OpenTyped(context, request.RootDirectory, request.DesiredAccess, request.Attributes, name, ObjectTypes.SymbolicLink, openLink: true);
    }

    private void NtQuerySymbolicLinkObject(in SyscallContext context, in NtQuerySymbolicLinkObjectRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtQuerySymbolicLinkObject");
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, request.Handle, AccessMask.SYMBOLIC_LINK_QUERY,
            ObjectTypes.SymbolicLink, ProcessorMode.UserMode, out var obj, out _);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new NtQuerySymbolicLinkObjectReply(0, 0));
            return;
        }
        var target = ((SymbolicLinkObject)obj!).Target;
        ob.Dereference(obj!);
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
