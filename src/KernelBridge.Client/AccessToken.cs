using System.Buffers.Binary;
using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>
/// A process's access token, .NET style: who it is (user, groups, owner), what it may do
/// (privileges and their state), and Enable/Disable as tools do with AdjustTokenPrivileges.
/// Each property asks the kernel, so it shows the state now.
/// </summary>
public sealed class AccessToken : IDisposable
{
    private AccessToken(KernelHandle handle) => Handle = handle;

    public KernelHandle Handle { get; }

    /// <summary>OpenProcessToken(GetCurrentProcess(), ...): this process's token.</summary>
    public static unsafe AccessToken OpenCurrent(uint desiredAccess = TokenAccess.TOKEN_QUERY | TokenAccess.TOKEN_ADJUST_PRIVILEGES, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtOpenProcessTokenEx(gate, PseudoHandles.CurrentProcess, desiredAccess, 0, &handle);
        NtStatusException.ThrowIfError(status, "opening the process token");
        return new AccessToken(new KernelHandle(handle, gate));
    }

    public Sid User => ReadSidAndAttributes(Query(TokenInformationClass.TokenUser, out var address), 0, address).Sid;

    public IReadOnlyList<TokenGroup> Groups
    {
        get
        {
            var bytes = Query(TokenInformationClass.TokenGroups, out var address);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            var groups = new TokenGroup[count];
            for (var i = 0; i < count; i++) groups[i] = ReadSidAndAttributes(bytes, 8 + i * 16, address);
            return groups;
        }
    }

    public IReadOnlyList<TokenPrivilege> Privileges
    {
        get
        {
            var bytes = Query(TokenInformationClass.TokenPrivileges, out _);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            var privileges = new TokenPrivilege[count];
            for (var i = 0; i < count; i++)
            {
                var entry = bytes.AsSpan(4 + i * 12);
                privileges[i] = new TokenPrivilege((Privilege)BinaryPrimitives.ReadUInt32LittleEndian(entry),
                    (PrivilegeAttributes)BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
            }
            return privileges;
        }
    }

    public Sid Owner => ReadPointedSid(Query(TokenInformationClass.TokenOwner, out var address), address);

    public Sid PrimaryGroup => ReadPointedSid(Query(TokenInformationClass.TokenPrimaryGroup, out var address), address);

    public Acl? DefaultDacl
    {
        get
        {
            var bytes = Query(TokenInformationClass.TokenDefaultDacl, out var address);
            var pointer = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            if (pointer == 0) return null;
            return Acl.TryRead(bytes.AsSpan((int)(pointer - address)), out var acl, out _) ? acl : throw new InvalidDataException("The kernel sent a malformed default DACL.");
        }
    }

    /// <summary>TokenElevation: root's token (and SYSTEM's) is elevated.</summary>
    public bool IsElevated => BinaryPrimitives.ReadUInt32LittleEndian(Query(TokenInformationClass.TokenElevation, out _)) != 0;

    /// <summary>Whether the token holds <paramref name="privilege"/> and it is enabled now.</summary>
    public bool IsEnabled(Privilege privilege) => Privileges.Any(p => p.Privilege == privilege && p.IsEnabled);

    /// <summary>Enables a privilege; returns whether it was enabled before. NtStatusException(STATUS_PRIVILEGE_NOT_HELD) when the token lacks it.</summary>
    public bool Enable(Privilege privilege) => Adjust(privilege, enable: true);

    /// <summary>Disables a privilege; returns whether it was enabled before.</summary>
    public bool Disable(Privilege privilege) => Adjust(privilege, enable: false);

    /// <summary>AdjustTokenPrivileges(DisableAllPrivileges = TRUE).</summary>
    public unsafe void DisableAll()
    {
        var status = Ntdll.NtAdjustPrivilegesToken(Handle.Gate, Handle.Value, true, null, 0, null, null);
        NtStatusException.ThrowIfError(status, "disabling every privilege");
    }

    private unsafe bool Adjust(Privilege privilege, bool enable)
    {
        TOKEN_PRIVILEGES wanted = default, previous = default;
        wanted.PrivilegeCount = 1;
        wanted.Privileges.Luid.LowPart = (uint)privilege;
        wanted.Privileges.Attributes = enable ? (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED : 0;
        uint length;
        var status = Ntdll.NtAdjustPrivilegesToken(Handle.Gate, Handle.Value, false, &wanted, (uint)sizeof(TOKEN_PRIVILEGES), &previous, &length);
        if (status == NtStatus.STATUS_NOT_ALL_ASSIGNED) throw new NtStatusException(NtStatus.STATUS_PRIVILEGE_NOT_HELD, $"{(enable ? "enabling" : "disabling")} {privilege}", "the token does not hold it");
        NtStatusException.ThrowIfError(status, $"adjusting {privilege}");
        // Nothing changed means it already was as asked.
        return previous.PrivilegeCount == 0 ? enable : (previous.Privileges.Attributes & (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED) != 0;
    }

    /// <summary>The raw answer for one class; <paramref name="address"/> is where the kernel laid it out (its pointers are relative to it).</summary>
    public unsafe byte[] Query(TokenInformationClass informationClass, out ulong address)
    {
        uint needed = 0;
        var status = Ntdll.NtQueryInformationToken(Handle.Gate, Handle.Value, informationClass, null, 0, &needed);
        while (true)
        {
            if (status != NtStatus.STATUS_BUFFER_TOO_SMALL) NtStatusException.ThrowIfFailed(status, $"querying {informationClass}");
            var buffer = new byte[Math.Max(needed, 4u)];
            fixed (byte* pointer = buffer)
            {
                status = Ntdll.NtQueryInformationToken(Handle.Gate, Handle.Value, informationClass, pointer, (uint)buffer.Length, &needed);
                address = (ulong)pointer;
            }
            // The token can grow between the two calls (it does not today, but the protocol allows it).
            if (status == NtStatus.STATUS_BUFFER_TOO_SMALL) continue;
            NtStatusException.ThrowIfFailed(status, $"querying {informationClass}");
            return buffer;
        }
    }

    private static TokenGroup ReadSidAndAttributes(byte[] bytes, int offset, ulong address)
    {
        var pointer = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset));
        var attributes = (GroupAttributes)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8));
        return new TokenGroup(SidAt(bytes, pointer - address), attributes);
    }

    private static Sid ReadPointedSid(byte[] bytes, ulong address) => SidAt(bytes, BinaryPrimitives.ReadUInt64LittleEndian(bytes) - address);

    private static Sid SidAt(byte[] bytes, ulong offset) =>
        offset < (ulong)bytes.Length && Sid.TryRead(bytes.AsSpan((int)offset), out var sid, out _) ? sid! : throw new InvalidDataException("The kernel sent a malformed SID.");

    public void Dispose() => Handle.Dispose();
}
