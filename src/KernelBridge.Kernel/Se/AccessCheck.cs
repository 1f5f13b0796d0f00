namespace KernelBridge.Kernel.Se;

/// <summary>
/// SeAccessCheck, reduced to what KernelBridge enforces today: generic rights are mapped through
/// the type, MAXIMUM_ALLOWED grants everything valid, bits the type does not define are refused.
/// Objects carry no security descriptors yet: the instance directory's 0700 already limits who can
/// connect to one user.
/// </summary>
internal static class AccessCheck
{
    public static NtStatus Check(ObjectType type, uint desiredAccess, out uint grantedAccess)
    {
        var mapped = type.GenericMapping.Map(desiredAccess);
        if ((mapped & AccessMask.MAXIMUM_ALLOWED) != 0)
            mapped = (mapped & ~AccessMask.MAXIMUM_ALLOWED) | type.ValidAccessMask;
        // ACCESS_SYSTEM_SECURITY needs a privilege nobody here holds; reserved bits never exist.
        const uint reserved = 0x0C000000 | 0x00E00000;
        if ((mapped & (AccessMask.ACCESS_SYSTEM_SECURITY | reserved)) != 0)
        {
            grantedAccess = 0;
            return NtStatus.STATUS_ACCESS_DENIED;
        }
        grantedAccess = mapped & (type.ValidAccessMask | AccessMask.STANDARD_RIGHTS_ALL);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// The check an open by name makes: as <see cref="Check"/>, but bits the type does not define,
    /// or no access at all, are refused; ACCESS_SYSTEM_SECURITY needs a privilege nobody holds here.
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
}
