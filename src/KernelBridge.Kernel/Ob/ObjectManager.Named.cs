using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ob;

internal sealed partial class ObjectManager
{
    private const uint ValidAttributes = 0x1FF2;

    /// <summary>NtClose of a last handle that must wait (see <see cref="ObjectTypeProcedures.DeferLastClose"/>): true if queued.</summary>
    public bool TryDeferClose(ProcessObject process, long handle, Action close) =>
        process.Handles.TryGet(handle, out var entry) && Volatile.Read(ref entry.Object.Header.HandleCount) == 1
        && (entry.Attributes & HandleAttributes.ProtectFromClose) == 0
        && ProceduresOf(entry.Object).DeferLastClose(entry.Object, close);

    private NtStatus ResolveRoot(ProcessObject process, ThreadObject? thread, long rootHandle, out KernelObject? root)
    {
        root = null;
        if (rootHandle == 0) return NtStatus.STATUS_SUCCESS;
        return ReferenceByHandle(process, thread, rootHandle, 0, null, ProcessorMode.UserMode, out root, out _);
    }

    private static HandleAttributes HandleAttributesOf(uint attributes) =>
        (attributes & (uint)ObjectAttributeFlags.OBJ_INHERIT) != 0 ? HandleAttributes.Inherit : HandleAttributes.None;

    /// <summary>
    /// ObInsertObject for a newly made object (the caller's reference is consumed): unnamed, or
    /// put under its name. An existing name is STATUS_OBJECT_NAME_COLLISION, unless OBJ_OPENIF opens
    /// the existing object (same type: STATUS_OBJECT_NAME_EXISTS; another type: STATUS_OBJECT_TYPE_MISMATCH).
    /// </summary>
    public NtStatus InsertObject(ProcessObject process, ThreadObject? thread, KernelObject obj, long rootHandle, string? name,
        uint attributes, uint desiredAccess, out long handle) =>
        InsertObject(process, thread, obj, rootHandle, name, attributes, desiredAccess, null, out handle);

    /// <summary>
    /// As above, with the creator's security descriptor (OBJECT_ATTRIBUTES.SecurityDescriptor): a
    /// named object gets it, or what its directory passes on, or the creator's default DACL; an
    /// unnamed one gets only an explicit one.
    /// </summary>
    public NtStatus InsertObject(ProcessObject process, ThreadObject? thread, KernelObject obj, long rootHandle, string? name,
        uint attributes, uint desiredAccess, SecurityDescriptor? descriptor, out long handle)
    {
        handle = 0;
        try
        {
            if ((attributes & ~ValidAttributes) != 0) return NtStatus.STATUS_INVALID_PARAMETER;
            var status = CheckCreatorAccess(obj.ObjectType, process.Token, desiredAccess, out var granted);
            if (!status.IsSuccess) return status;
            if (string.IsNullOrEmpty(name) && rootHandle == 0)
            {
                if (descriptor is not null) status = AssignSecurity(obj, null, descriptor, process.Token);
                return !status.IsSuccess ? status : CreateHandle(process, obj, granted, HandleAttributesOf(attributes), out handle);
            }
            if ((attributes & (uint)ObjectAttributeFlags.OBJ_PERMANENT) != 0 && !process.Token.HasPrivilege(Privilege.SeDebugPrivilege))
                return NtStatus.STATUS_PRIVILEGE_NOT_HELD;

            status = ResolveRoot(process, thread, rootHandle, out var root);
            if (!status.IsSuccess) return status;
            try
            {
                if (root is not null and not DirectoryObject) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
                var caseInsensitive = (attributes & (uint)ObjectAttributeFlags.OBJ_CASE_INSENSITIVE) != 0 || obj.ObjectType.CaseInsensitive;
                // What a driver names from kernel mode without a descriptor gets none: the Ddk's Zw calls take no
                // descriptor yet, and SYSTEM's default DACL would shut user mode out of drivers' shared sections.
                var creator = descriptor is null && process.Token.User == WellKnownSids.LocalSystem ? null : process.Token;
                status = InsertName(obj, root, name ?? "", caseInsensitive, creator, descriptor);
                if (status == NtStatus.STATUS_OBJECT_NAME_COLLISION && (attributes & (uint)ObjectAttributeFlags.OBJ_OPENIF) != 0)
                {
                    status = LookupObject(name ?? "", root, caseInsensitive, openLink: false, out var existing, out var remaining);
                    if (!status.IsSuccess) return status;
                    try
                    {
                        if (!ReferenceEquals(existing!.ObjectType, obj.ObjectType) || remaining.Length != 0) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
                        // Opening what exists is an open: the existing object's descriptor decides.
                        status = CheckOpenAccess(existing, process.Token, desiredAccess, out var openGranted);
                        if (!status.IsSuccess) return status;
                        status = CreateHandle(process, existing, openGranted, HandleAttributesOf(attributes), out handle);
                        return status.IsSuccess ? NtStatus.STATUS_OBJECT_NAME_EXISTS : status;
                    }
                    finally
                    {
                        Dereference(existing!);
                    }
                }
                if (!status.IsSuccess) return status;
                var permanent = (attributes & (uint)ObjectAttributeFlags.OBJ_PERMANENT) != 0;
                if (permanent)
                {
                    obj.Header.Permanent = true;
                    Reference(obj);
                }
                status = CreateHandle(process, obj, granted, HandleAttributesOf(attributes), out handle);
                // A create that could not give its handle (the handle quota) leaves nothing behind, permanent or not.
                if (!status.IsSuccess && permanent) MakeTemporary(obj);
                return status;
            }
            finally
            {
                if (root is not null) Dereference(root);
            }
        }
        finally
        {
            Dereference(obj);
        }
    }

    /// <summary>ObOpenObjectByName for a given type: STATUS_OBJECT_TYPE_MISMATCH if the name leads elsewhere.</summary>
    public NtStatus OpenObjectByName(ProcessObject process, ThreadObject? thread, long rootHandle, string? name, uint attributes,
        ObjectType type, uint desiredAccess, bool openLink, out long handle)
    {
        handle = 0;
        if ((attributes & ~ValidAttributes) != 0) return NtStatus.STATUS_INVALID_PARAMETER;
        if (string.IsNullOrEmpty(name) && rootHandle == 0) return NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD;
        var status = ResolveRoot(process, thread, rootHandle, out var root);
        if (!status.IsSuccess) return status;
        KernelObject? found;
        string remaining;
        try
        {
            var caseInsensitive = (attributes & (uint)ObjectAttributeFlags.OBJ_CASE_INSENSITIVE) != 0 || type.CaseInsensitive;
            status = LookupObject(name ?? "", root, caseInsensitive, openLink, out found, out remaining);
            if (!status.IsSuccess) return status;
        }
        finally
        {
            if (root is not null) Dereference(root);
        }
        try
        {
            if (!ReferenceEquals(found!.ObjectType, type) || remaining.Length != 0) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            status = CheckOpenAccess(found, process.Token, desiredAccess, out var granted);
            return status.IsSuccess ? CreateHandle(process, found, granted, HandleAttributesOf(attributes), out handle) : status;
        }
        finally
        {
            Dereference(found!);
        }
    }
}
