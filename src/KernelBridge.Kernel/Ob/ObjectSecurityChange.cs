using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// ObSetSecurityDescriptorInfo / SeSetSecurityDescriptorInfo: the parts a NtSetSecurityObject names
/// replace the object's, the rest stays. The caller has already shown the handle's right to do it.
/// </summary>
internal static class ObjectSecurityChange
{
    private const SecurityDescriptorControl DaclBits = SecurityDescriptorControl.SE_DACL_PRESENT | SecurityDescriptorControl.SE_DACL_DEFAULTED
        | SecurityDescriptorControl.SE_DACL_PROTECTED | SecurityDescriptorControl.SE_DACL_AUTO_INHERITED | SecurityDescriptorControl.SE_DACL_AUTO_INHERIT_REQ;
    private const SecurityDescriptorControl SaclBits = SecurityDescriptorControl.SE_SACL_PRESENT | SecurityDescriptorControl.SE_SACL_DEFAULTED
        | SecurityDescriptorControl.SE_SACL_PROTECTED | SecurityDescriptorControl.SE_SACL_AUTO_INHERITED | SecurityDescriptorControl.SE_SACL_AUTO_INHERIT_REQ;

    public static NtStatus Apply(KernelObject obj, SecurityInformation information, SecurityDescriptor given, Token token)
    {
        var setOwner = (information & SecurityInformation.OWNER_SECURITY_INFORMATION) != 0;
        var setGroup = (information & SecurityInformation.GROUP_SECURITY_INFORMATION) != 0;
        var setDacl = (information & SecurityInformation.DACL_SECURITY_INFORMATION) != 0;
        var setSacl = (information & SecurityInformation.SACL_SECURITY_INFORMATION) != 0;
        if (setOwner && (given.Owner is null || !ObjectManager.MayOwn(token, given.Owner))) return NtStatus.STATUS_INVALID_OWNER;
        if (setGroup && given.Group is null) return NtStatus.STATUS_INVALID_PRIMARY_GROUP;

        var mapping = obj.ObjectType.GenericMapping;
        while (true)
        {
            var current = ObjectManager.SecurityOf(obj);
            // SeSetSecurityDescriptorInfo: an object made without a descriptor gets none later (else
            // whoever opened it first could take it over from everyone else).
            if (current is null) return NtStatus.STATUS_NO_SECURITY_ON_OBJECT;
            var control = current?.Control ?? SecurityDescriptorControl.None;
            var dacl = current?.Dacl;
            var sacl = current?.Sacl;
            if (setDacl)
            {
                dacl = given.Dacl;
                control = (control & ~DaclBits) | (given.Control & DaclBits);
                if ((information & SecurityInformation.PROTECTED_DACL_SECURITY_INFORMATION) != 0) control |= SecurityDescriptorControl.SE_DACL_PROTECTED;
                if ((information & SecurityInformation.UNPROTECTED_DACL_SECURITY_INFORMATION) != 0) control &= ~SecurityDescriptorControl.SE_DACL_PROTECTED;
            }
            if (setSacl)
            {
                sacl = given.Sacl;
                control = (control & ~SaclBits) | (given.Control & SaclBits);
            }
            var changed = ObjectManager.MapGenericRights(new SecurityDescriptor(
                setOwner ? given.Owner : current?.Owner, setGroup ? given.Group : current?.Group, dacl, sacl, control), mapping);
            if (ReferenceEquals(Interlocked.CompareExchange(ref obj.Header.Security, changed, current), current)) return NtStatus.STATUS_SUCCESS;
        }
    }
}
