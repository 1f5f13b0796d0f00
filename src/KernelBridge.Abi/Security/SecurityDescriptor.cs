using System.Buffers.Binary;

namespace KernelBridge.Abi.Security;

/// <summary>
/// A security descriptor: owner, group, DACL, SACL and control bits. Immutable. A null
/// <see cref="Dacl"/> means no DACL (with SE_DACL_PRESENT: a NULL DACL); either way the access
/// check grants everything. The binary form is the self-relative SECURITY_DESCRIPTOR_RELATIVE.
/// </summary>
public sealed partial class SecurityDescriptor : IEquatable<SecurityDescriptor>
{
    public const byte Revision = 1;
    /// <summary>SECURITY_DESCRIPTOR_RELATIVE's fixed part: revision, sbz1, control, four offsets.</summary>
    public const int HeaderLength = 20;

    /// <param name="control">Other control bits; SE_DACL_PRESENT / SE_SACL_PRESENT are added for a non-null ACL
    /// (pass SE_DACL_PRESENT with a null DACL for a NULL DACL); SE_SELF_RELATIVE is dropped.</param>
    public SecurityDescriptor(Sid? owner, Sid? group, Acl? dacl, Acl? sacl = null, SecurityDescriptorControl control = SecurityDescriptorControl.None)
    {
        Owner = owner;
        Group = group;
        Dacl = dacl;
        Sacl = sacl;
        control &= ~SecurityDescriptorControl.SE_SELF_RELATIVE;
        if (dacl is not null) control |= SecurityDescriptorControl.SE_DACL_PRESENT;
        if (sacl is not null) control |= SecurityDescriptorControl.SE_SACL_PRESENT;
        Control = control;
    }

    public Sid? Owner { get; }
    public Sid? Group { get; }
    public Acl? Dacl { get; }
    public Acl? Sacl { get; }
    public SecurityDescriptorControl Control { get; }

    public bool DaclPresent => (Control & SecurityDescriptorControl.SE_DACL_PRESENT) != 0;
    public bool DaclProtected => (Control & SecurityDescriptorControl.SE_DACL_PROTECTED) != 0;

    /// <summary>RtlLengthSecurityDescriptor of the self-relative form.</summary>
    public int BinaryLength => HeaderLength + (Sacl?.BinaryLength ?? 0) + (Dacl?.BinaryLength ?? 0) + (Owner?.BinaryLength ?? 0) + (Group?.BinaryLength ?? 0);

    /// <summary>RtlMakeSelfRelativeSD: the header, then SACL, DACL, owner, group (offsets from the start; 0 for none).</summary>
    public byte[] ToSelfRelative()
    {
        var bytes = new byte[BinaryLength];
        bytes[0] = Revision;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)(Control | SecurityDescriptorControl.SE_SELF_RELATIVE));
        var offset = HeaderLength;
        if (Sacl is not null) { BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), offset); offset += Sacl.WriteTo(bytes.AsSpan(offset)); }
        if (Dacl is not null) { BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), offset); offset += Dacl.WriteTo(bytes.AsSpan(offset)); }
        if (Owner is not null) { BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), offset); offset += Owner.WriteTo(bytes.AsSpan(offset)); }
        if (Group is not null) { BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), offset); Group.WriteTo(bytes.AsSpan(offset)); }
        return bytes;
    }

    /// <summary>
    /// Reads a self-relative descriptor as SeCaptureSecurityDescriptor checks one:
    /// STATUS_INVALID_SECURITY_DESCR for a short buffer, a wrong revision, a descriptor that is not
    /// self-relative or an offset outside the buffer or not 4-aligned; STATUS_INVALID_SID and
    /// STATUS_INVALID_ACL for a malformed owner/group or DACL/SACL.
    /// </summary>
    public static NtStatus TryReadSelfRelative(ReadOnlySpan<byte> source, out SecurityDescriptor? descriptor)
    {
        descriptor = null;
        if (source.Length < HeaderLength || source[0] != Revision) return NtStatus.STATUS_INVALID_SECURITY_DESCR;
        var control = (SecurityDescriptorControl)BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        if ((control & SecurityDescriptorControl.SE_SELF_RELATIVE) == 0) return NtStatus.STATUS_INVALID_SECURITY_DESCR;
        var ownerOffset = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        var groupOffset = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        var saclOffset = BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        var daclOffset = BinaryPrimitives.ReadUInt32LittleEndian(source[16..]);
        foreach (var offset in (ReadOnlySpan<uint>)[ownerOffset, groupOffset, saclOffset, daclOffset])
            if (offset != 0 && (offset < HeaderLength || offset >= source.Length || (offset & 3) != 0)) return NtStatus.STATUS_INVALID_SECURITY_DESCR;

        Sid? owner = null, group = null;
        Acl? dacl = null, sacl = null;
        if (ownerOffset != 0 && !Sid.TryRead(source[(int)ownerOffset..], out owner, out _)) return NtStatus.STATUS_INVALID_SID;
        if (groupOffset != 0 && !Sid.TryRead(source[(int)groupOffset..], out group, out _)) return NtStatus.STATUS_INVALID_SID;
        if ((control & SecurityDescriptorControl.SE_DACL_PRESENT) != 0 && daclOffset != 0
            && !Acl.TryRead(source[(int)daclOffset..], out dacl, out _)) return NtStatus.STATUS_INVALID_ACL;
        if ((control & SecurityDescriptorControl.SE_SACL_PRESENT) != 0 && saclOffset != 0
            && !Acl.TryRead(source[(int)saclOffset..], out sacl, out _)) return NtStatus.STATUS_INVALID_ACL;
        descriptor = new SecurityDescriptor(owner, group, dacl, sacl, control);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The descriptor with only the parts <paramref name="information"/> names (what NtQuerySecurityObject returns).</summary>
    public SecurityDescriptor Select(SecurityInformation information)
    {
        var keep = Control & (SecurityDescriptorControl.SE_RM_CONTROL_VALID);
        var owner = (information & SecurityInformation.OWNER_SECURITY_INFORMATION) != 0 ? Owner : null;
        if (owner is not null) keep |= Control & SecurityDescriptorControl.SE_OWNER_DEFAULTED;
        var group = (information & SecurityInformation.GROUP_SECURITY_INFORMATION) != 0 ? Group : null;
        if (group is not null) keep |= Control & SecurityDescriptorControl.SE_GROUP_DEFAULTED;
        Acl? dacl = null, sacl = null;
        if ((information & SecurityInformation.DACL_SECURITY_INFORMATION) != 0)
        {
            dacl = Dacl;
            keep |= Control & (SecurityDescriptorControl.SE_DACL_PRESENT | SecurityDescriptorControl.SE_DACL_DEFAULTED
                | SecurityDescriptorControl.SE_DACL_PROTECTED | SecurityDescriptorControl.SE_DACL_AUTO_INHERITED | SecurityDescriptorControl.SE_DACL_AUTO_INHERIT_REQ);
        }
        if ((information & SecurityInformation.SACL_SECURITY_INFORMATION) != 0)
        {
            sacl = Sacl;
            keep |= Control & (SecurityDescriptorControl.SE_SACL_PRESENT | SecurityDescriptorControl.SE_SACL_DEFAULTED
                | SecurityDescriptorControl.SE_SACL_PROTECTED | SecurityDescriptorControl.SE_SACL_AUTO_INHERITED | SecurityDescriptorControl.SE_SACL_AUTO_INHERIT_REQ);
        }
        return new SecurityDescriptor(owner, group, dacl, sacl, keep);
    }

    /// <summary>The descriptor as SDDL (all four parts).</summary>
    public override string ToString() => Sddl.ToSddl(this, SecurityInformation.All);

    public bool Equals(SecurityDescriptor? other) =>
        other is not null && other.Control == Control && other.Owner == Owner && other.Group == Group && Equals(other.Dacl, Dacl) && Equals(other.Sacl, Sacl);

    public override bool Equals(object? obj) => Equals(obj as SecurityDescriptor);
    public override int GetHashCode() => HashCode.Combine(Control, Owner, Group, Dacl, Sacl);
}
