using System.Buffers.Binary;

namespace KernelBridge.Abi.Security;

/// <summary>
/// One access control entry of the simple kinds (ACCESS_ALLOWED_ACE and its siblings): header
/// (type, flags, size), ACCESS_MASK, SID. Immutable.
/// </summary>
public sealed record Ace(AceType Type, AceFlags Flags, uint Mask, Sid Sid)
{
    public static Ace Allow(Sid sid, uint mask, AceFlags flags = AceFlags.None) => new(AceType.ACCESS_ALLOWED_ACE_TYPE, flags, mask, sid);
    public static Ace Deny(Sid sid, uint mask, AceFlags flags = AceFlags.None) => new(AceType.ACCESS_DENIED_ACE_TYPE, flags, mask, sid);

    public bool IsInheritOnly => (Flags & AceFlags.INHERIT_ONLY_ACE) != 0;
    public bool IsInherited => (Flags & AceFlags.INHERITED_ACE) != 0;

    /// <summary>ACE_HEADER (4) + mask (4) + SID; always a multiple of 4 since SIDs are.</summary>
    public int BinaryLength => 8 + Sid.BinaryLength;

    public int WriteTo(Span<byte> destination)
    {
        var length = BinaryLength;
        destination[0] = (byte)Type;
        destination[1] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Mask);
        Sid.WriteTo(destination[8..]);
        return length;
    }

    /// <summary>
    /// Reads one ACE. False for a size that is not a multiple of 4, runs past <paramref name="source"/>,
    /// or does not hold a valid SID; an ACE type KernelBridge does not know is reported through
    /// <paramref name="known"/> with its size so a reader can refuse it.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out Ace? ace, out int consumed)
    {
        ace = null;
        consumed = 0;
        if (source.Length < 8) return false;
        var size = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        if (size < 8 + 8 || (size & 3) != 0 || size > source.Length) return false;
        var type = (AceType)source[0];
        if (!Enum.IsDefined(type)) return false;
        if (!Sid.TryRead(source[8..size], out var sid, out var sidLength) || 8 + sidLength > size) return false;
        ace = new Ace(type, (AceFlags)source[1], BinaryPrimitives.ReadUInt32LittleEndian(source[4..]), sid!);
        consumed = size;
        return true;
    }
}
