namespace KernelBridge.Abi.Security;

public sealed partial class SecurityDescriptor
{
    private const AceFlags InheritanceFlags = AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE
        | AceFlags.NO_PROPAGATE_INHERIT_ACE | AceFlags.INHERIT_ONLY_ACE;
    private const uint GenericBits = AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.GENERIC_EXECUTE | AccessMask.GENERIC_ALL;

    /// <summary>
    /// SeAssignSecurity: the descriptor a new object gets. Owner and group come from
    /// <paramref name="explicitDescriptor"/> or else the creator's token. The DACL is the explicit
    /// one when given (and not SE_DACL_DEFAULTED); else the ACEs the parent passes down (OI to
    /// objects, CI to containers, NP stops after one level, IO applies below only; CREATOR OWNER and
    /// CREATOR GROUP become the new owner and group; generic rights are mapped; every inherited ACE
    /// is marked ID); else the explicit defaulted DACL; else the token's default DACL (null: none).
    /// With <paramref name="autoInherit"/> (SEF_DACL_AUTO_INHERIT, as files use) an explicit DACL
    /// keeps the parent's inheritable ACEs after its own unless it is SE_DACL_PROTECTED.
    /// </summary>
    public static SecurityDescriptor CreateForNewObject(
        SecurityDescriptor? parent, SecurityDescriptor? explicitDescriptor, bool isContainer, Sid ownerSid, Sid groupSid,
        Acl? defaultDacl, GenericMapping mapping, bool autoInherit = false)
    {
        ArgumentNullException.ThrowIfNull(ownerSid);
        ArgumentNullException.ThrowIfNull(groupSid);
        var owner = explicitDescriptor?.Owner ?? ownerSid;
        var group = explicitDescriptor?.Group ?? groupSid;
        var inherited = parent?.Dacl is { } parentDacl ? InheritedAces(parentDacl, isContainer, owner, group, mapping) : [];

        var control = SecurityDescriptorControl.None;
        Acl? dacl;
        var explicitPresent = explicitDescriptor is { DaclPresent: true };
        var explicitDefaulted = explicitPresent && (explicitDescriptor!.Control & SecurityDescriptorControl.SE_DACL_DEFAULTED) != 0;
        if (explicitPresent && !explicitDefaulted)
        {
            var isProtected = explicitDescriptor!.DaclProtected;
            if (isProtected) control |= SecurityDescriptorControl.SE_DACL_PROTECTED;
            if (autoInherit && !isProtected && explicitDescriptor.Dacl is { } own)
            {
                dacl = new Acl(own.Aces.Where(a => !a.IsInherited).Concat(inherited));
                control |= SecurityDescriptorControl.SE_DACL_AUTO_INHERITED;
            }
            else
            {
                dacl = explicitDescriptor.Dacl;
                if (dacl is null) control |= SecurityDescriptorControl.SE_DACL_PRESENT;
            }
        }
        else if (inherited.Count > 0)
        {
            dacl = new Acl(inherited);
            if (autoInherit) control |= SecurityDescriptorControl.SE_DACL_AUTO_INHERITED;
        }
        else if (explicitPresent)
        {
            dacl = explicitDescriptor!.Dacl;
            control |= SecurityDescriptorControl.SE_DACL_DEFAULTED | (dacl is null ? SecurityDescriptorControl.SE_DACL_PRESENT : 0);
        }
        else
        {
            dacl = defaultDacl;
            if (dacl is not null) control |= SecurityDescriptorControl.SE_DACL_DEFAULTED;
        }
        return new SecurityDescriptor(owner, group, dacl, explicitDescriptor?.Sacl, control);
    }

    /// <summary>RtlpInheritAcl: the ACEs of <paramref name="parentDacl"/> that a new child receives.</summary>
    public static List<Ace> InheritedAces(Acl parentDacl, bool isContainer, Sid owner, Sid group, GenericMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(parentDacl);
        var result = new List<Ace>();
        foreach (var ace in parentDacl.Aces)
        {
            var flags = ace.Flags;
            var objectInherit = (flags & AceFlags.OBJECT_INHERIT_ACE) != 0;
            var containerInherit = (flags & AceFlags.CONTAINER_INHERIT_ACE) != 0;
            var noPropagate = (flags & AceFlags.NO_PROPAGATE_INHERIT_ACE) != 0;
            if (!isContainer)
            {
                if (objectInherit) result.Add(Effective(ace, owner, group, mapping));
                continue;
            }
            if (containerInherit)
            {
                if (noPropagate) { result.Add(Effective(ace, owner, group, mapping)); continue; }
                var needsSplit = (ace.Mask & GenericBits) != 0 || ace.Sid == WellKnownSids.CreatorOwner || ace.Sid == WellKnownSids.CreatorGroup;
                if (needsSplit)
                {
                    // One ACE that applies to the container itself, and the original kept inherit-only to pass further down.
                    result.Add(Effective(ace, owner, group, mapping));
                    result.Add(ace with { Flags = (flags | AceFlags.INHERIT_ONLY_ACE | AceFlags.INHERITED_ACE) });
                }
                else
                {
                    result.Add(ace with { Flags = (flags & ~AceFlags.INHERIT_ONLY_ACE) | AceFlags.INHERITED_ACE });
                }
            }
            else if (objectInherit && !noPropagate)
            {
                // Objects below the container get it; the container itself does not.
                result.Add(ace with { Flags = (flags | AceFlags.INHERIT_ONLY_ACE | AceFlags.INHERITED_ACE) });
            }
        }
        return result;
    }

    /// <summary>The ACE as it applies to the child itself: no inheritance flags, generic rights mapped, creator SIDs replaced.</summary>
    private static Ace Effective(Ace ace, Sid owner, Sid group, GenericMapping mapping)
    {
        var sid = ace.Sid == WellKnownSids.CreatorOwner ? owner : ace.Sid == WellKnownSids.CreatorGroup ? group : ace.Sid;
        return ace with { Flags = (ace.Flags & ~InheritanceFlags) | AceFlags.INHERITED_ACE, Mask = mapping.Map(ace.Mask), Sid = sid };
    }
}
