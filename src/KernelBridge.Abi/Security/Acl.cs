using System.Buffers.Binary;

namespace KernelBridge.Abi.Security;

/// <summary>An access control list: ACL header (revision, size, count) and its ACEs in order. Immutable, compared by value.</summary>
public sealed class Acl : IEquatable<Acl>
{
    /// <summary>ACL_REVISION.</summary>
    public const byte Revision2 = 2;
    /// <summary>ACL_REVISION_DS (object ACEs).</summary>
    public const byte Revision4 = 4;
    public const int HeaderLength = 8;

    private readonly Ace[] _aces;

    public Acl(IEnumerable<Ace> aces, byte revision = Revision2)
    {
        ArgumentNullException.ThrowIfNull(aces);
        _aces = [.. aces];
        AclRevision = revision;
    }

    public static Acl Empty { get; } = new([]);

    public byte AclRevision { get; }
    public IReadOnlyList<Ace> Aces => _aces;
    public int Count => _aces.Length;

    public int BinaryLength => HeaderLength + _aces.Sum(a => a.BinaryLength);

    public int WriteTo(Span<byte> destination)
    {
        var length = BinaryLength;
        destination[0] = AclRevision;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], (ushort)_aces.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        var offset = HeaderLength;
        foreach (var ace in _aces) offset += ace.WriteTo(destination[offset..]);
        return length;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[BinaryLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// RtlValidAcl plus the read: revision 2..4, AclSize within <paramref name="source"/> and a
    /// multiple of 4, every ACE inside it. False means STATUS_INVALID_ACL.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out Acl? acl, out int consumed)
    {
        acl = null;
        consumed = 0;
        if (source.Length < HeaderLength) return false;
        var revision = source[0];
        var size = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (revision is < 2 or > 4 || size < HeaderLength || (size & 3) != 0 || size > source.Length) return false;
        var body = source[HeaderLength..size];
        // The smallest ACE is 16 bytes (header, mask, a SID without sub-authorities): a count the size cannot hold is refused before anything is allocated.
        if (count > body.Length / 16) return false;
        var aces = new Ace[count];
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (!Ace.TryRead(body[offset..], out var ace, out var aceLength)) return false;
            aces[i] = ace!;
            offset += aceLength;
        }
        acl = new Acl(aces, revision);
        consumed = size;
        return true;
    }

    public bool Equals(Acl? other) => other is not null && other.AclRevision == AclRevision && other._aces.SequenceEqual(_aces);
    public override bool Equals(object? obj) => Equals(obj as Acl);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var ace in _aces) hash.Add(ace);
        return hash.ToHashCode();
    }
}
