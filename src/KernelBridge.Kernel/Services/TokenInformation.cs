using System.Buffers.Binary;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQueryInformationToken. Answers are x64 Windows' structures laid out for the caller's buffer
/// address: TOKEN_USER and TOKEN_GROUPS hold SID_AND_ATTRIBUTES (a PSID, the attributes, 4 bytes
/// of padding) with the SIDs after the array; TOKEN_OWNER, TOKEN_PRIMARY_GROUP and
/// TOKEN_DEFAULT_DACL a pointer followed by what it points to; TOKEN_PRIVILEGES a count and
/// 12-byte LUID_AND_ATTRIBUTES.
/// </summary>
internal sealed partial class SystemServices
{
    private const int PointerSize = 8;
    private const int SidAndAttributesSize = 16;
    private const int TokenStatisticsSize = 56;

    public void NtQueryInformationToken(in SyscallContext context, in NtQueryInformationTokenRequest request)
    {
        var informationClass = (TokenInformationClass)request.InformationClass;
        if (!Enum.IsDefined(informationClass))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS, new NtQueryInformationTokenReply(0, 0));
            return;
        }
        using var token = Reference<Token>(context, request.TokenHandle, TokenAccess.TOKEN_QUERY, ObjectTypes.Token);
        if (Refused(context, token.Status, new NtQueryInformationTokenReply(0, 0))) return;
        var answer = TokenInformationOf(token.Value, informationClass, request.BufferAddress);
        if (answer.Length > request.Length)
        {
            context.Reply.Send(NtStatus.STATUS_BUFFER_TOO_SMALL, new NtQueryInformationTokenReply((uint)answer.Length, 0));
            return;
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQueryInformationTokenReply((uint)answer.Length, (uint)answer.Length), answer);
    }

    /// <summary>The structure for one information class, its pointers computed from <paramref name="address"/>.</summary>
    internal static byte[] TokenInformationOf(Token token, TokenInformationClass informationClass, ulong address)
    {
        switch (informationClass)
        {
            case TokenInformationClass.TokenUser:
                return SidAndAttributesArray([new TokenGroup(token.User, 0)], address, withCount: false);
            case TokenInformationClass.TokenGroups:
                return SidAndAttributesArray(token.Groups, address, withCount: true);
            case TokenInformationClass.TokenPrivileges:
                return WritePrivileges(token.Privileges);
            case TokenInformationClass.TokenOwner:
                return PointerTo(token.Owner.ToBytes(), address);
            case TokenInformationClass.TokenPrimaryGroup:
                return PointerTo(token.PrimaryGroup.ToBytes(), address);
            case TokenInformationClass.TokenDefaultDacl:
                return token.DefaultDacl is { } dacl ? PointerTo(dacl.ToBytes(), address) : new byte[PointerSize];
            case TokenInformationClass.TokenType:
                return UInt32(1); // TokenPrimary
            case TokenInformationClass.TokenElevationType:
                return UInt32(1); // TokenElevationTypeDefault: no split (UAC) tokens here
            case TokenInformationClass.TokenElevation:
                return UInt32(token.IsElevated ? 1u : 0u);
            case TokenInformationClass.TokenStatistics:
            {
                var bytes = new byte[TokenStatisticsSize];
                var span = bytes.AsSpan();
                BinaryPrimitives.WriteInt64LittleEndian(span, token.TokenId);
                BinaryPrimitives.WriteInt64LittleEndian(span[8..], token.AuthenticationId);
                BinaryPrimitives.WriteInt64LittleEndian(span[16..], long.MaxValue); // ExpirationTime: never
                BinaryPrimitives.WriteUInt32LittleEndian(span[24..], 1); // TokenPrimary
                BinaryPrimitives.WriteUInt32LittleEndian(span[28..], 0); // ImpersonationLevel: SecurityAnonymous for a primary token
                BinaryPrimitives.WriteUInt32LittleEndian(span[32..], 4096); // DynamicCharged
                BinaryPrimitives.WriteUInt32LittleEndian(span[36..], 4096 - (uint)(token.DefaultDacl?.BinaryLength ?? 0) - (uint)token.PrimaryGroup.BinaryLength);
                BinaryPrimitives.WriteUInt32LittleEndian(span[40..], (uint)token.Groups.Count);
                BinaryPrimitives.WriteUInt32LittleEndian(span[44..], (uint)token.Privileges.Count);
                BinaryPrimitives.WriteInt64LittleEndian(span[48..], token.TokenId); // ModifiedId
                return bytes;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(informationClass));
        }
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] PointerTo(byte[] body, ulong address)
    {
        var bytes = new byte[PointerSize + body.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, address + PointerSize);
        body.CopyTo(bytes, PointerSize);
        return bytes;
    }

    /// <summary>TOKEN_GROUPS (a count, padding, the array) or TOKEN_USER (the one entry); the SIDs follow the array.</summary>
    private static byte[] SidAndAttributesArray(IReadOnlyList<TokenGroup> groups, ulong address, bool withCount)
    {
        var header = withCount ? 8 : 0;
        var arrayEnd = header + groups.Count * SidAndAttributesSize;
        var bytes = new byte[arrayEnd + groups.Sum(g => g.Sid.BinaryLength)];
        var span = bytes.AsSpan();
        if (withCount) BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)groups.Count);
        var sidOffset = arrayEnd;
        for (var i = 0; i < groups.Count; i++)
        {
            var entry = span[(header + i * SidAndAttributesSize)..];
            BinaryPrimitives.WriteUInt64LittleEndian(entry, address + (ulong)sidOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)groups[i].Attributes);
            sidOffset += groups[i].Sid.WriteTo(span[sidOffset..]);
        }
        return bytes;
    }
}
