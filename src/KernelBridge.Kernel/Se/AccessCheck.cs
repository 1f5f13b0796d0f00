using KernelBridge.Abi.Security;

namespace KernelBridge.Kernel.Se;

/// <summary>
/// SeAccessCheck: whether a token gets the access it asks for to an object with a given security
/// descriptor. Generic rights are mapped through the object type; privileges grant first
/// (SeSecurityPrivilege for ACCESS_SYSTEM_SECURITY, SeTakeOwnershipPrivilege for WRITE_OWNER); no
/// descriptor or a NULL DACL grants everything, an empty DACL nothing; the owner gets READ_CONTROL
/// and WRITE_DAC unless an OWNER RIGHTS ACE says otherwise; then the ACEs in order, the first ACE
/// to decide a bit winning (inherit-only ACEs skipped, deny-only groups counting for deny ACEs).
/// </summary>
internal static class AccessCheck
{
    private const uint Reserved = 0x0C000000 | 0x00E00000;

    /// <summary>
    /// The full check. <paramref name="validAccess"/> is the type's valid mask: bits outside it (and
    /// the standard rights) are refused, and MAXIMUM_ALLOWED grants at most it.
    /// </summary>
    public static NtStatus Check(SecurityDescriptor? descriptor, Token token, uint desiredAccess, GenericMapping mapping, uint validAccess,
        out uint grantedAccess)
    {
        grantedAccess = 0;
        var desired = mapping.Map(desiredAccess);
        var maximum = (desired & AccessMask.MAXIMUM_ALLOWED) != 0;
        desired &= ~AccessMask.MAXIMUM_ALLOWED;
        var grantable = validAccess | AccessMask.STANDARD_RIGHTS_ALL;
        if ((desired & (Reserved | ~(grantable | AccessMask.ACCESS_SYSTEM_SECURITY))) != 0) return NtStatus.STATUS_ACCESS_DENIED;

        uint granted = 0;
        if ((desired & AccessMask.ACCESS_SYSTEM_SECURITY) != 0)
        {
            if (!token.IsPrivilegeEnabled(Privilege.SeSecurityPrivilege)) return NtStatus.STATUS_PRIVILEGE_NOT_HELD;
            granted |= AccessMask.ACCESS_SYSTEM_SECURITY;
        }
        if (((desired & AccessMask.WRITE_OWNER) != 0 || maximum) && token.IsPrivilegeEnabled(Privilege.SeTakeOwnershipPrivilege))
            granted |= AccessMask.WRITE_OWNER;

        var dacl = descriptor?.Dacl;
        if (dacl is null)
        {
            // No DACL, or a NULL DACL: everything.
            granted |= desired | (maximum ? mapping.GenericAll & grantable : 0);
            return Finish(granted, desired, maximum, out grantedAccess);
        }

        var isOwner = descriptor!.Owner is { } owner && token.Contains(owner);
        var ownerRightsAce = isOwner && dacl.Aces.Any(a => !a.IsInheritOnly && a.Sid == WellKnownSids.OwnerRights);
        if (isOwner && !ownerRightsAce) granted |= (AccessMask.READ_CONTROL | AccessMask.WRITE_DAC) & (maximum ? uint.MaxValue : desired);

        uint denied = 0;
        foreach (var ace in dacl.Aces)
        {
            if (ace.IsInheritOnly) continue;
            var isAllow = ace.Type == AceType.ACCESS_ALLOWED_ACE_TYPE;
            if (!isAllow && ace.Type != AceType.ACCESS_DENIED_ACE_TYPE) continue;
            var applies = ace.Sid == WellKnownSids.OwnerRights ? isOwner : token.Contains(ace.Sid, forDeny: !isAllow);
            if (!applies) continue;
            var mask = mapping.Map(ace.Mask) & ~AccessMask.MAXIMUM_ALLOWED;
            if (maximum)
            {
                if (isAllow) granted |= mask & ~denied;
                else denied |= mask & ~granted;
                continue;
            }
            var undecided = desired & ~granted;
            if (isAllow) granted |= mask & undecided;
            else if ((mask & undecided) != 0) return NtStatus.STATUS_ACCESS_DENIED;
            if ((desired & ~granted) == 0) break;
        }
        if (maximum) granted &= grantable | AccessMask.ACCESS_SYSTEM_SECURITY;
        return Finish(granted, desired, maximum, out grantedAccess);
    }

    private static NtStatus Finish(uint granted, uint desired, bool maximum, out uint grantedAccess)
    {
        grantedAccess = 0;
        if ((desired & ~granted) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        if (!maximum) granted &= desired;
        // Asking for nothing at all gets nothing, which is a denial (SeAccessCheck's "no access").
        if (granted == 0) return NtStatus.STATUS_ACCESS_DENIED;
        grantedAccess = granted;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// The check before objects carried descriptors: generic rights mapped, MAXIMUM_ALLOWED grants
    /// everything valid, bits the type does not define are refused. Callers move to the descriptor overload.
    /// </summary>
    public static NtStatus Check(ObjectType type, uint desiredAccess, out uint grantedAccess)
    {
        var mapped = type.GenericMapping.Map(desiredAccess);
        if ((mapped & AccessMask.MAXIMUM_ALLOWED) != 0)
            mapped = (mapped & ~AccessMask.MAXIMUM_ALLOWED) | type.ValidAccessMask;
        if ((mapped & (AccessMask.ACCESS_SYSTEM_SECURITY | Reserved)) != 0)
        {
            grantedAccess = 0;
            return NtStatus.STATUS_ACCESS_DENIED;
        }
        grantedAccess = mapped & (type.ValidAccessMask | AccessMask.STANDARD_RIGHTS_ALL);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// The check an open by name makes without a descriptor: as <see cref="Check(ObjectType, uint, out uint)"/>,
    /// but bits the type does not define, or no access at all, are refused; ACCESS_SYSTEM_SECURITY needs a privilege.
    /// </summary>
    public static NtStatus CheckOpen(ObjectType type, uint desiredAccess, out uint grantedAccess)
    {
        grantedAccess = 0;
        var mapped = type.GenericMapping.Map(desiredAccess);
        if ((mapped & AccessMask.ACCESS_SYSTEM_SECURITY) != 0) return NtStatus.STATUS_PRIVILEGE_NOT_HELD;
        var defined = type.ValidAccessMask | AccessMask.STANDARD_RIGHTS_ALL | AccessMask.MAXIMUM_ALLOWED;
        if (mapped == 0 || (mapped & ~defined) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        return Check(type, desiredAccess, out grantedAccess);
    }

    /// <summary>The descriptor overload with the type's mapping and valid mask.</summary>
    public static NtStatus Check(SecurityDescriptor? descriptor, Token token, ObjectType type, uint desiredAccess, out uint grantedAccess) =>
        Check(descriptor, token, desiredAccess, type.GenericMapping, type.ValidAccessMask, out grantedAccess);
}
