using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace KernelBridge.Abi.Security;

/// <summary>
/// A security identifier (SID): revision 1, a 48-bit identifier authority and up to 15
/// sub-authorities. Immutable and compared by value; the binary form is Windows' (authority
/// big-endian, sub-authorities little-endian).
/// </summary>
public sealed class Sid : IEquatable<Sid>
{
    public const byte Revision = 1;
    public const int MaxSubAuthorities = 15;
    /// <summary>SECURITY_MAX_SID_SIZE: a SID with 15 sub-authorities.</summary>
    public const int MaxBinaryLength = 8 + 4 * MaxSubAuthorities;

    private readonly uint[] _subAuthorities;

    public Sid(ulong identifierAuthority, params uint[] subAuthorities)
    {
        ArgumentNullException.ThrowIfNull(subAuthorities);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(identifierAuthority, 0xFFFF_FFFF_FFFFUL);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(subAuthorities.Length, MaxSubAuthorities);
        IdentifierAuthority = identifierAuthority;
        _subAuthorities = (uint[])subAuthorities.Clone();
    }

    public ulong IdentifierAuthority { get; }
    public IReadOnlyList<uint> SubAuthorities => _subAuthorities;
    public int SubAuthorityCount => _subAuthorities.Length;

    /// <summary>The last sub-authority (the relative identifier), or 0 for a SID without any.</summary>
    public uint Rid => _subAuthorities.Length == 0 ? 0 : _subAuthorities[^1];

    /// <summary>RtlLengthSid.</summary>
    public int BinaryLength => 8 + 4 * _subAuthorities.Length;

    /// <summary>S-1-22-1-uid: the Unix user SID (Samba's mapping).</summary>
    public static Sid ForUnixUser(uint uid) => new(22, 1, uid);

    /// <summary>S-1-22-2-gid: the Unix group SID.</summary>
    public static Sid ForUnixGroup(uint gid) => new(22, 2, gid);

    /// <summary>Writes the binary SID; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < BinaryLength) throw new ArgumentException("The destination is smaller than the SID.", nameof(destination));
        destination[0] = Revision;
        destination[1] = (byte)_subAuthorities.Length;
        for (var i = 0; i < 6; i++) destination[2 + i] = (byte)(IdentifierAuthority >> (8 * (5 - i)));
        for (var i = 0; i < _subAuthorities.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(8 + 4 * i)..], _subAuthorities[i]);
        return BinaryLength;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[BinaryLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>RtlValidSid plus the read: revision 1, at most 15 sub-authorities, all bytes present.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out Sid? sid, out int consumed)
    {
        sid = null;
        consumed = 0;
        if (source.Length < 8 || source[0] != Revision || source[1] > MaxSubAuthorities) return false;
        var count = source[1];
        var length = 8 + 4 * count;
        if (source.Length < length) return false;
        ulong authority = 0;
        for (var i = 0; i < 6; i++) authority = (authority << 8) | source[2 + i];
        var subs = new uint[count];
        for (var i = 0; i < count; i++) subs[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(8 + 4 * i)..]);
        sid = new Sid(authority, subs);
        consumed = length;
        return true;
    }

    /// <summary>
    /// The "S-1-5-18" form (ConvertStringSidToSid without the SDDL aliases, which <see cref="Sddl.TryParseSid"/>
    /// adds): at least one sub-authority; the authority decimal or 0x-hex.
    /// </summary>
    public static bool TryParse(string? text, out Sid? sid)
    {
        sid = null;
        if (text is null || text.Length < 5 || (text[0] != 'S' && text[0] != 's') || text[1] != '-') return false;
        var parts = text[2..].Split('-');
        if (parts.Length < 3 || parts.Length - 2 > MaxSubAuthorities || parts[0] != "1") return false;
        if (!TryParseNumber(parts[1], 0xFFFF_FFFF_FFFFUL, out var authority)) return false;
        var subs = new uint[parts.Length - 2];
        for (var i = 0; i < subs.Length; i++)
        {
            if (!TryParseNumber(parts[i + 2], uint.MaxValue, out var value)) return false;
            subs[i] = (uint)value;
        }
        sid = new Sid(authority, subs);
        return true;
    }

    public static Sid Parse(string text) =>
        TryParse(text, out var sid) ? sid! : throw new FormatException($"'{text}' is not a SID (S-1-<authority>-<sub-authority>...).");

    private static bool TryParseNumber(string text, ulong max, out ulong value)
    {
        value = 0;
        if (text.Length == 0) return false;
        bool ok;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = text.Length > 2 && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        else
            ok = text.All(char.IsAsciiDigit) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok && value <= max;
    }

    /// <summary>ConvertSidToStringSid: the authority in decimal below 2^32, else as 0x followed by 12 hex digits.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("S-1-");
        if (IdentifierAuthority <= uint.MaxValue) text.Append(IdentifierAuthority.ToString(CultureInfo.InvariantCulture));
        else text.Append("0x").Append(IdentifierAuthority.ToString("X12", CultureInfo.InvariantCulture));
        foreach (var sub in _subAuthorities) text.Append('-').Append(sub.ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }

    public bool Equals(Sid? other) =>
        other is not null && other.IdentifierAuthority == IdentifierAuthority && other._subAuthorities.AsSpan().SequenceEqual(_subAuthorities);

    public override bool Equals(object? obj) => Equals(obj as Sid);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(IdentifierAuthority);
        foreach (var sub in _subAuthorities) hash.Add(sub);
        return hash.ToHashCode();
    }

    public static bool operator ==(Sid? left, Sid? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(Sid? left, Sid? right) => !(left == right);
}
