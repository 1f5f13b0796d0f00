using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQuerySecurityObject, NtSetSecurityObject and NtCreateDirectoryObject: objects' security
/// descriptors (ObQuerySecurityDescriptorInfo / ObSetSecurityDescriptorInfo), and the capture of a
/// descriptor a create passes in its object attributes.
/// </summary>
internal sealed partial class SystemServices
{
    private const SecurityInformation ValidInformation = SecurityInformation.All | SecurityInformation.PROTECTED_DACL_SECURITY_INFORMATION
        | SecurityInformation.UNPROTECTED_DACL_SECURITY_INFORMATION | SecurityInformation.PROTECTED_SACL_SECURITY_INFORMATION
        | SecurityInformation.UNPROTECTED_SACL_SECURITY_INFORMATION | SecurityInformation.LABEL_SECURITY_INFORMATION;

    /// <summary>SeCaptureSecurityDescriptor: none if empty, else a valid self-relative descriptor (STATUS_INVALID_SECURITY_DESCR and friends if not).</summary>
    private static bool CaptureSecurityDescriptor(ReadOnlySpan<byte> bytes, out SecurityDescriptor? descriptor, out NtStatus status)
    {
        descriptor = null;
        status = NtStatus.STATUS_SUCCESS;
        if (bytes.IsEmpty) return true;
        status = SecurityDescriptor.TryReadSelfRelative(bytes, out descriptor);
        return status.IsSuccess;
    }

    /// <summary>SeQuerySecurityAccessMask: READ_CONTROL for owner, group, DACL and label; ACCESS_SYSTEM_SECURITY for the SACL.</summary>
    private static uint QueryAccessFor(SecurityInformation information) =>
        ((information & (SecurityInformation.OWNER_SECURITY_INFORMATION | SecurityInformation.GROUP_SECURITY_INFORMATION
            | SecurityInformation.DACL_SECURITY_INFORMATION | SecurityInformation.LABEL_SECURITY_INFORMATION)) != 0 ? AccessMask.READ_CONTROL : 0)
        | ((information & SecurityInformation.SACL_SECURITY_INFORMATION) != 0 ? AccessMask.ACCESS_SYSTEM_SECURITY : 0);

    /// <summary>SeSetSecurityAccessMask: WRITE_OWNER for owner, group and label; WRITE_DAC for the DACL; ACCESS_SYSTEM_SECURITY for the SACL.</summary>
    private static uint SetAccessFor(SecurityInformation information) =>
        ((information & (SecurityInformation.OWNER_SECURITY_INFORMATION | SecurityInformation.GROUP_SECURITY_INFORMATION
            | SecurityInformation.LABEL_SECURITY_INFORMATION)) != 0 ? AccessMask.WRITE_OWNER : 0)
        | ((information & SecurityInformation.DACL_SECURITY_INFORMATION) != 0 ? AccessMask.WRITE_DAC : 0)
        | ((information & SecurityInformation.SACL_SECURITY_INFORMATION) != 0 ? AccessMask.ACCESS_SYSTEM_SECURITY : 0);

    /// <summary>
    /// The object whose descriptor a handle stands for: itself, or for a file opened on a device
    /// itself (no name below it) the device (IopGetSetSecurityObject). A file below a device would
    /// ask its driver (IRP_MJ_QUERY_SECURITY), which KernelBridge does not send: STATUS_INVALID_DEVICE_REQUEST.
    /// </summary>
    private static KernelObject? SecurityHolder(KernelObject obj) => obj switch
    {
        IoFileObject { FileName.Length: 0 } file => file.DeviceObject,
        IoFileObject => null,
        _ => obj,
    };

    public void NtQuerySecurityObject(in SyscallContext context, in NtQuerySecurityObjectRequest request)
    {
        var information = (SecurityInformation)request.SecurityInformation;
        using var obj = Reference<KernelObject>(context, request.Handle, QueryAccessFor(information), null);
        if (Refused(context, obj.Status, new NtQuerySecurityObjectReply(0, 0))) return;
        AnswerSecurityQuery(context, SecurityHolder(obj.Value), information, request.Length);
    }

    public void KbQuerySecurityObjectByName(in SyscallContext context, in KbQuerySecurityObjectByNameRequest request,
        KbQuerySecurityObjectByNameRequest.Data data)
    {
        var information = (SecurityInformation)request.SecurityInformation;
        var status = _ob.LookupObject(new string(data.ObjectName), null, caseInsensitive: true, openLink: true, out var found, out var remaining);
        if (Refused(context, status, new NtQuerySecurityObjectReply(0, 0))) return;
        try
        {
            if (remaining.Length != 0) status = NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
            else if (QueryAccessFor(information) is var access and not 0) status = ObjectManager.CheckAccess(found!, context.Process.Token, access, out _);
            if (Refused(context, status, new NtQuerySecurityObjectReply(0, 0))) return;
            AnswerSecurityQuery(context, found, information, request.Length);
        }
        finally
        {
            _ob.Dereference(found!);
        }
    }

    private static void AnswerSecurityQuery(in SyscallContext context, KernelObject? holder, SecurityInformation information, uint length)
    {
        if (holder is null)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_DEVICE_REQUEST, new NtQuerySecurityObjectReply(0, 0));
            return;
        }
        // An object without a descriptor answers with an empty one (nothing present: no DACL, everyone passes).
        var selected = ObjectManager.SecurityOf(holder)?.Select(information) ?? new SecurityDescriptor(null, null, null);
        var bytes = selected.ToSelfRelative();
        if (length < bytes.Length)
        {
            context.Reply.Send(NtStatus.STATUS_BUFFER_TOO_SMALL, new NtQuerySecurityObjectReply((uint)bytes.Length, 0));
            return;
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQuerySecurityObjectReply((uint)bytes.Length, (uint)bytes.Length), bytes);
    }

    public void NtSetSecurityObject(in SyscallContext context, in NtSetSecurityObjectRequest request, NtSetSecurityObjectRequest.Data data)
    {
        var information = (SecurityInformation)request.SecurityInformation;
        if ((information & ~ValidInformation) != 0 || (information & SecurityInformation.All) == 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER);
            return;
        }
        using var obj = Reference<KernelObject>(context, request.Handle, SetAccessFor(information), null);
        if (Refused(context, obj.Status, default(EmptyReply))) return;
        if (data.Descriptor.IsEmpty || !CaptureSecurityDescriptor(data.Descriptor, out var given, out var status))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_SECURITY_DESCR);
            return;
        }
        if (SecurityHolder(obj.Value) is not { } holder)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_DEVICE_REQUEST);
            return;
        }
        status = ObjectSecurityChange.Apply(holder, information, given!, context.Process.Token);
        context.Reply.Send(status);
    }

    public void NtCreateDirectoryObject(in SyscallContext context, in NtCreateDirectoryObjectRequest request, NtCreateDirectoryObjectRequest.Data data) =>
        CreateNamed(context, new DirectoryObject(), request.RootDirectory, data.ObjectName, request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
}
