using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// Objects' security descriptors (ObAssignSecurity, ObCheckObjectAccess, ObGetObjectSecurity,
/// ObSetSecurityDescriptorInfo). A descriptor is immutable: reading it takes no lock, and a change
/// replaces it whole.
/// </summary>
internal sealed partial class ObjectManager
{
    /// <summary>The boot namespace's descriptors (see <see cref="DefaultSecurity"/>).</summary>
    private void SecureNamespace()
    {
        foreach (var path in new[] { @"\", @"\ObjectTypes", @"\Device", @"\Driver", @"\??", @"\KernelObjects" })
            SecureBuiltIn(path, DefaultSecurity.PublicDirectory);
        SecureBuiltIn(@"\BaseNamedObjects", DefaultSecurity.NamedObjects);
        SecureBuiltIn(@"\DosDevices", DefaultSecurity.SymbolicLink);
        SecureBuiltIn(@"\??\GLOBALROOT", DefaultSecurity.SymbolicLink);
    }

    private void SecureBuiltIn(string path, SecurityDescriptor descriptor)
    {
        var status = LookupObject(path, null, caseInsensitive: true, openLink: true, out var found, out _);
        if (!status.IsSuccess) throw new InvalidOperationException($"cannot secure {path}: {status}");
        AssignKernelSecurity(found!, descriptor);
        Dereference(found!);
    }

    /// <summary>The object's descriptor (null: it has none, and every access check passes).</summary>
    public static SecurityDescriptor? SecurityOf(KernelObject? obj) => obj is null ? null : Volatile.Read(ref obj.Header.Security);

    public static void SetSecurity(KernelObject obj, SecurityDescriptor? descriptor) => Volatile.Write(ref obj.Header.Security, descriptor);

    /// <summary>
    /// SeAssignSecurity for a new object: the creator's explicit descriptor, else what the parent
    /// directory passes on (its inheritable ACEs), else the creator token's default DACL; the owner
    /// and group the descriptor names, else the token's.
    /// </summary>
    /// An explicit owner must be one the creator may set (<see cref="MayOwn"/>): else STATUS_INVALID_OWNER.
    public static NtStatus AssignSecurity(KernelObject obj, KernelObject? parent, SecurityDescriptor? explicitDescriptor, Token creator)
    {
        if (explicitDescriptor?.Owner is { } owner && !MayOwn(creator, owner)) return NtStatus.STATUS_INVALID_OWNER;
        // A SACL is ACCESS_SYSTEM_SECURITY's business, on creation as on NtSetSecurityObject.
        if (explicitDescriptor?.Sacl is not null && !creator.IsPrivilegeEnabled(Privilege.SeSecurityPrivilege)) return NtStatus.STATUS_PRIVILEGE_NOT_HELD;
        SetSecurity(obj, MapGenericRights(SecurityDescriptor.CreateForNewObject(SecurityOf(parent), explicitDescriptor, obj is DirectoryObject,
            creator.Owner, creator.PrimaryGroup, creator.DefaultDacl, obj.ObjectType.GenericMapping), obj.ObjectType.GenericMapping));
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>SepValidOwnerSubjectContext: the token's user, a group of it marked SE_GROUP_OWNER, or anyone with SeRestorePrivilege enabled.</summary>
    public static bool MayOwn(Token token, Sid owner) =>
        owner == token.User || token.IsPrivilegeEnabled(Privilege.SeRestorePrivilege)
        || token.Groups.Any(g => g.Sid == owner && (g.Attributes & GroupAttributes.SE_GROUP_OWNER) != 0);

    /// <summary>
    /// A descriptor the kernel gives an object it makes itself (a device, a driver, a link, a port):
    /// generic rights in the descriptor mapped for the object's type, owner and group SYSTEM unless it names them.
    /// </summary>
    public static void AssignKernelSecurity(KernelObject obj, SecurityDescriptor descriptor) =>
        SetSecurity(obj, MapGenericRights(SecurityDescriptor.CreateForNewObject(null, descriptor, obj is DirectoryObject, WellKnownSids.LocalSystem,
            WellKnownSids.LocalSystem, null, obj.ObjectType.GenericMapping), obj.ObjectType.GenericMapping));

    /// <summary>
    /// An object's ACEs hold specific rights only (SeAssignSecurity maps them): generic rights in the
    /// ACEs that apply to the object are mapped through its type; inherit-only ACEs keep theirs for the children.
    /// </summary>
    public static SecurityDescriptor MapGenericRights(SecurityDescriptor descriptor, GenericMapping mapping)
    {
        if (descriptor.Dacl is not { } dacl || dacl.Aces.All(a => a.IsInheritOnly || mapping.Map(a.Mask) == a.Mask)) return descriptor;
        var aces = new List<Ace>(dacl.Count + 2);
        foreach (var ace in dacl.Aces)
        {
            if (ace.IsInheritOnly || mapping.Map(ace.Mask) == ace.Mask) aces.Add(ace);
            else if ((ace.Flags & (AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE)) == 0) aces.Add(ace with { Mask = mapping.Map(ace.Mask) });
            else
            {
                // It applies here and is passed on: the object's own copy mapped through its type, the
                // inheritable one kept generic (inherit-only) for children of other types.
                aces.Add(ace with { Mask = mapping.Map(ace.Mask), Flags = ace.Flags & ~(AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE | AceFlags.NO_PROPAGATE_INHERIT_ACE) });
                aces.Add(ace with { Flags = ace.Flags | AceFlags.INHERIT_ONLY_ACE });
            }
        }
        return new SecurityDescriptor(descriptor.Owner, descriptor.Group, new Acl(aces, dacl.AclRevision), descriptor.Sacl, descriptor.Control);
    }

    /// <summary>
    /// The access check at an open (ObCheckObjectAccess): the object's descriptor against the token,
    /// generic rights mapped through its type, MAXIMUM_ALLOWED granting what the descriptor allows.
    /// </summary>
    public static NtStatus CheckAccess(KernelObject obj, Token token, uint desiredAccess, out uint grantedAccess)
    {
        var type = obj.ObjectType;
        return AccessCheck.Check(SecurityOf(obj), token, desiredAccess, type.GenericMapping, type.ValidAccessMask, out grantedAccess);
    }

    /// <summary>
    /// The check an open by name makes: as <see cref="CheckAccess"/>, but no access at all, or bits
    /// the type does not define, are refused before the descriptor is consulted.
    /// </summary>
    public static NtStatus CheckOpenAccess(KernelObject obj, Token token, uint desiredAccess, out uint grantedAccess)
    {
        grantedAccess = 0;
        var type = obj.ObjectType;
        var mapped = type.GenericMapping.Map(desiredAccess);
        var defined = type.ValidAccessMask | AccessMask.STANDARD_RIGHTS_ALL | AccessMask.MAXIMUM_ALLOWED | AccessMask.ACCESS_SYSTEM_SECURITY;
        if (mapped == 0 || (mapped & ~defined) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        return CheckAccess(obj, token, desiredAccess, out grantedAccess);
    }

    /// <summary>
    /// What the creator of a new object (or the holder of a handle duplicating rights it has) is
    /// granted: no descriptor is consulted (Windows gives the creator the access it asked for, even
    /// from a descriptor that denies it), only the type's rights; ACCESS_SYSTEM_SECURITY needs SeSecurityPrivilege enabled.
    /// </summary>
    public static NtStatus CheckCreatorAccess(ObjectType type, Token token, uint desiredAccess, out uint grantedAccess)
    {
        const uint reserved = 0x0C000000 | 0x00E00000;
        grantedAccess = 0;
        var mapped = type.GenericMapping.Map(desiredAccess);
        if ((mapped & AccessMask.MAXIMUM_ALLOWED) != 0) mapped = (mapped & ~AccessMask.MAXIMUM_ALLOWED) | type.ValidAccessMask;
        if ((mapped & reserved) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        if ((mapped & AccessMask.ACCESS_SYSTEM_SECURITY) != 0 && !token.IsPrivilegeEnabled(Privilege.SeSecurityPrivilege))
            return NtStatus.STATUS_PRIVILEGE_NOT_HELD;
        // No access at all is a handle with no rights (a duplicate for waiting by the holder of SYNCHRONIZE elsewhere, say).
        grantedAccess = mapped & (type.ValidAccessMask | AccessMask.STANDARD_RIGHTS_ALL | AccessMask.ACCESS_SYSTEM_SECURITY);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// ObCheckCreateObjectAccess: making a name in <paramref name="directory"/> needs DIRECTORY_CREATE_OBJECT
    /// (DIRECTORY_CREATE_SUBDIRECTORY for a directory) there.
    /// </summary>
    public static NtStatus CheckCreateInDirectory(KernelObject directory, Token token, bool subdirectory) =>
        CheckAccess(directory, token, subdirectory ? AccessMask.DIRECTORY_CREATE_SUBDIRECTORY : AccessMask.DIRECTORY_CREATE_OBJECT, out _);
}
