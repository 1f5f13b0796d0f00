using System.Buffers.Binary;
using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Platform.Interop;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Se;

/// <summary>
/// The token services through the real kernel: this test process's token (from SO_PEERCRED),
/// its groups and privileges, AdjustTokenPrivileges, short buffers, missing access and bad
/// classes, with Windows' statuses and Win32 errors (Wine's advapi32 test_token_attr /
/// test_AdjustTokenPrivileges, run on Windows).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class TokenTests(KernelFixture fixture)
{
    private readonly KernelFixture _fixture = fixture;

    private static readonly uint Uid = Libc.EffectiveUserId();

    private static nint OpenToken(uint access)
    {
        nint token;
        var status = Ntdll.NtOpenProcessToken(PseudoHandles.CurrentProcess, access, &token);
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        Assert.NotEqual(0, token);
        return token;
    }

    [Fact]
    public void The_token_of_this_process_is_its_unix_user()
    {
        using var token = AccessToken.OpenCurrent();
        Assert.Equal(Sid.ForUnixUser(Uid), token.User);
        Assert.Equal($"S-1-22-1-{Uid}", token.User.ToString());
        var groups = token.Groups;
        Assert.Contains(groups, g => g.Sid == WellKnownSids.World && g.IsEnabled);
        Assert.Contains(groups, g => g.Sid == WellKnownSids.AuthenticatedUsers && g.IsEnabled);
        Assert.Contains(groups, g => g.Sid == token.PrimaryGroup && g.IsEnabled);
        // Every supplementary group the kernel saw in /proc is there too.
        foreach (var gid in SupplementaryGroups())
            Assert.Contains(groups, g => g.Sid == Sid.ForUnixGroup(gid));
        var isRoot = Uid == 0;
        Assert.Equal(isRoot, groups.Any(g => g.Sid == WellKnownSids.BuiltinAdministrators && g.IsEnabled));
        Assert.Equal(isRoot, token.IsElevated);
        Assert.Equal(isRoot ? WellKnownSids.BuiltinAdministrators : token.User, token.Owner);
        Assert.Equal([Ace.Allow(token.Owner, AccessMask.GENERIC_ALL), Ace.Allow(WellKnownSids.LocalSystem, AccessMask.GENERIC_ALL)], token.DefaultDacl!.Aces);
    }

    private static IEnumerable<uint> SupplementaryGroups()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Groups:", StringComparison.Ordinal));
        return line["Groups:".Length..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(g => uint.Parse(g, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Privileges_are_held_as_windows_holds_them()
    {
        using var token = AccessToken.OpenCurrent();
        var privileges = token.Privileges;
        Assert.Contains(new TokenPrivilege(Privilege.SeChangeNotifyPrivilege, PrivilegeAttributes.SE_PRIVILEGE_ENABLED | PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT), privileges);
        var loadDriver = privileges.Where(p => p.Privilege == Privilege.SeLoadDriverPrivilege).ToList();
        if (Uid == 0) Assert.Single(loadDriver);
        else Assert.Empty(loadDriver);
        Assert.DoesNotContain(privileges, p => p.Privilege == Privilege.SeCreateTokenPrivilege);
    }

    [Fact]
    public void Get_token_information_reports_the_size_it_needs_and_lays_pointers_into_the_buffer()
    {
        var token = OpenToken(TokenAccess.TOKEN_QUERY);
        try
        {
            Assert.False(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenUser, null, 0, out var needed));
            Assert.Equal((uint)Win32Error.ERROR_INSUFFICIENT_BUFFER, Kernel32.GetLastError());
            var sidLength = Sid.ForUnixUser(Uid).BinaryLength;
            Assert.Equal((uint)(16 + sidLength), needed);

            var buffer = new byte[needed + 8];
            buffer.AsSpan().Fill(0xCC);
            fixed (byte* pointer = buffer)
            {
                Assert.False(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenUser, pointer, needed - 1, out var again));
                Assert.Equal(needed, again);
                Assert.True(buffer.All(b => b == 0xCC), "a short buffer is left untouched");

                Assert.True(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenUser, pointer, (uint)buffer.Length, out var returned));
                Assert.Equal(needed, returned);
                // TOKEN_USER: SID_AND_ATTRIBUTES { PSID, Attributes } with the SID right after it.
                Assert.Equal((ulong)pointer + 16, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
                Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8)));
                Assert.True(Sid.TryRead(buffer.AsSpan(16), out var sid, out _));
                Assert.Equal(Sid.ForUnixUser(Uid), sid);
                Assert.Equal(0xCC, buffer[needed]);
            }

            uint typeLength;
            uint type;
            Assert.True(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenType, &type, 4, out typeLength));
            Assert.Equal((1u, 4u), (type, typeLength)); // TokenPrimary
            Assert.False(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenStatistics, &type, 4, out typeLength));
            Assert.Equal((uint)Win32Error.ERROR_INSUFFICIENT_BUFFER, Kernel32.GetLastError());
            Assert.Equal(56u, typeLength);
        }
        finally
        {
            Ntdll.NtClose(token);
        }
    }

    [Fact]
    public void Token_groups_count_then_list_sid_and_attributes()
    {
        var token = OpenToken(TokenAccess.TOKEN_QUERY);
        try
        {
            uint needed;
            Assert.Equal(NtStatus.STATUS_BUFFER_TOO_SMALL, Ntdll.NtQueryInformationToken(token, TokenInformationClass.TokenGroups, null, 0, &needed));
            var buffer = new byte[needed];
            fixed (byte* pointer = buffer)
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryInformationToken(token, TokenInformationClass.TokenGroups, pointer, needed, &needed));
                var count = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
                Assert.True(count >= 4);
                var sids = new List<Sid>();
                for (var i = 0; i < count; i++)
                {
                    var address = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(8 + i * 16));
                    Assert.InRange(address, (ulong)pointer + 8 + count * 16, (ulong)pointer + needed - 8);
                    Assert.True(Sid.TryRead(buffer.AsSpan((int)(address - (ulong)pointer)), out var sid, out _));
                    sids.Add(sid!);
                }
                Assert.Contains(WellKnownSids.World, sids);
            }
        }
        finally
        {
            Ntdll.NtClose(token);
        }
    }

    [Fact]
    public void Querying_without_token_query_access_is_denied_and_a_bad_class_is_refused()
    {
        var token = OpenToken(TokenAccess.TOKEN_ADJUST_PRIVILEGES);
        try
        {
            var buffer = stackalloc byte[256];
            uint length = 0xDEADBEEF;
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtQueryInformationToken(token, TokenInformationClass.TokenUser, buffer, 256, &length));
            Assert.Equal(0xDEADBEEFu, length);
            Assert.False(Advapi32.GetTokenInformation(token, TokenInformationClass.TokenUser, buffer, 256, out _));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
            Assert.Equal(NtStatus.STATUS_INVALID_INFO_CLASS, Ntdll.NtQueryInformationToken(token, (TokenInformationClass)9999, buffer, 256, &length));
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtQueryInformationToken(0x7FF0, TokenInformationClass.TokenUser, buffer, 256, &length));
        }
        finally
        {
            Ntdll.NtClose(token);
        }
        // A handle of another type.
        using var kernelEvent = KernelEvent.Create(manualReset: true);
        uint ignored;
        var eventBuffer = stackalloc byte[64];
        Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtQueryInformationToken(kernelEvent.Handle.DangerousGetHandle(), TokenInformationClass.TokenUser, eventBuffer, 64, &ignored));
    }

    [Fact]
    public void Adjusting_privileges_needs_token_adjust_privileges()
    {
        var token = OpenToken(TokenAccess.TOKEN_QUERY);
        try
        {
            var state = Single(Privilege.SeChangeNotifyPrivilege, enable: false);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtAdjustPrivilegesToken(token, false, &state, 0, null, null));
            Assert.False(Advapi32.AdjustTokenPrivileges(token, false, &state, 0, null, null));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        }
        finally
        {
            Ntdll.NtClose(token);
        }
        using var check = AccessToken.OpenCurrent();
        Assert.True(check.IsEnabled(Privilege.SeChangeNotifyPrivilege));
    }

    private static TOKEN_PRIVILEGES Single(Privilege privilege, bool enable)
    {
        TOKEN_PRIVILEGES state = default;
        state.PrivilegeCount = 1;
        state.Privileges.Luid.LowPart = (uint)privilege;
        state.Privileges.Attributes = enable ? (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED : 0;
        return state;
    }

    [Fact]
    public void A_privilege_the_token_does_not_hold_is_not_assigned_and_the_call_still_succeeds()
    {
        var token = OpenToken(TokenAccess.TOKEN_ADJUST_PRIVILEGES | TokenAccess.TOKEN_QUERY);
        try
        {
            var state = Single(Privilege.SeCreateTokenPrivilege, enable: true);
            Assert.Equal(NtStatus.STATUS_NOT_ALL_ASSIGNED, Ntdll.NtAdjustPrivilegesToken(token, false, &state, 0, null, null));
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.True(Advapi32.AdjustTokenPrivileges(token, false, &state, 0, null, null));
            Assert.Equal((uint)Win32Error.ERROR_NOT_ALL_ASSIGNED, Kernel32.GetLastError());
            // An unknown LUID is simply not held either.
            state.Privileges.Luid.LowPart = 999;
            Assert.Equal(NtStatus.STATUS_NOT_ALL_ASSIGNED, Ntdll.NtAdjustPrivilegesToken(token, false, &state, 0, null, null));
        }
        finally
        {
            Ntdll.NtClose(token);
        }
        using var check = AccessToken.OpenCurrent();
        Assert.DoesNotContain(check.Privileges, p => p.Privilege == Privilege.SeCreateTokenPrivilege);
    }

    /// <summary>SeShutdownPrivilege: every token here holds it disabled, as Windows gives it to users and administrators.</summary>
    [Fact]
    public void Enabling_and_disabling_a_held_privilege_reports_the_previous_state()
    {
        var token = OpenToken(TokenAccess.TOKEN_ADJUST_PRIVILEGES | TokenAccess.TOKEN_QUERY);
        try
        {
            var state = Single(Privilege.SeShutdownPrivilege, enable: true);
            TOKEN_PRIVILEGES previous = default;
            uint length = 0;
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.True(Advapi32.AdjustTokenPrivileges(token, false, &state, (uint)sizeof(TOKEN_PRIVILEGES), &previous, &length));
            Assert.Equal((uint)Win32Error.ERROR_SUCCESS, Kernel32.GetLastError());
            Assert.Equal(16u, length);
            Assert.Equal(1u, previous.PrivilegeCount);
            Assert.Equal((uint)Privilege.SeShutdownPrivilege, previous.Privileges.Luid.LowPart);
            Assert.Equal(0u, previous.Privileges.Attributes & (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED);
            using (var check = AccessToken.OpenCurrent()) Assert.True(check.IsEnabled(Privilege.SeShutdownPrivilege));

            // Enabling again changes nothing: an empty previous state.
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtAdjustPrivilegesToken(token, false, &state, (uint)sizeof(TOKEN_PRIVILEGES), &previous, &length));
            Assert.Equal((0u, 4u), (previous.PrivilegeCount, length));

            // A previous-state buffer too small for what changes: STATUS_BUFFER_TOO_SMALL and nothing changes.
            var disable = Single(Privilege.SeShutdownPrivilege, enable: false);
            Assert.Equal(NtStatus.STATUS_BUFFER_TOO_SMALL, Ntdll.NtAdjustPrivilegesToken(token, false, &disable, 4, &previous, &length));
            Assert.Equal(16u, length);
            using (var check = AccessToken.OpenCurrent()) Assert.True(check.IsEnabled(Privilege.SeShutdownPrivilege));

            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtAdjustPrivilegesToken(token, false, &disable, 0, null, null));
            using (var check = AccessToken.OpenCurrent()) Assert.False(check.IsEnabled(Privilege.SeShutdownPrivilege));
        }
        finally
        {
            Ntdll.NtClose(token);
        }
    }

    [Fact]
    public void The_idiomatic_token_enables_disables_and_refuses_what_it_does_not_hold()
    {
        using var token = AccessToken.OpenCurrent();
        Assert.False(token.Enable(Privilege.SeShutdownPrivilege));
        Assert.True(token.IsEnabled(Privilege.SeShutdownPrivilege));
        Assert.True(token.Disable(Privilege.SeShutdownPrivilege));
        Assert.False(token.IsEnabled(Privilege.SeShutdownPrivilege));
        var refused = Assert.Throws<NtStatusException>(() => token.Enable(Privilege.SeTcbPrivilege));
        Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, refused.Status);
    }

    [Fact]
    public void A_thread_has_no_token_of_its_own()
    {
        nint token = 0x1234;
        Assert.Equal(NtStatus.STATUS_NO_TOKEN, Ntdll.NtOpenThreadToken(PseudoHandles.CurrentThread, TokenAccess.TOKEN_QUERY, false, &token));
        Assert.Equal(0, token);
        Assert.False(Advapi32.OpenThreadToken(PseudoHandles.CurrentThread, TokenAccess.TOKEN_QUERY, true, out _));
        Assert.Equal((uint)Win32Error.ERROR_NO_TOKEN, Kernel32.GetLastError());
    }

    [Fact]
    public void Opening_the_token_needs_a_process_handle_and_bits_the_token_type_defines()
    {
        nint token = 0x1234;
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtOpenProcessToken(0x7FF0, TokenAccess.TOKEN_QUERY, &token));
        Assert.Equal(0, token);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtOpenProcessToken(PseudoHandles.CurrentProcess, 0x00400000, &token));
        Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, Ntdll.NtOpenProcessToken(PseudoHandles.CurrentProcess, AccessMask.ACCESS_SYSTEM_SECURITY, &token));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, Ntdll.NtOpenProcessTokenEx(PseudoHandles.CurrentProcess, TokenAccess.TOKEN_QUERY, 0x40, &token));
        Assert.True(Advapi32.OpenProcessToken(Kernel32.GetCurrentProcess(), AccessMask.MAXIMUM_ALLOWED, out token));
        try
        {
            // Our own token's default DACL gives its owner everything.
            var basic = stackalloc byte[56];
            uint returned;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryObject(token, ObjectInformationClass.ObjectBasicInformation, basic, 56, &returned));
            Assert.Equal(TokenAccess.TOKEN_ALL_ACCESS, BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(basic + 4, 4)));
        }
        finally
        {
            Ntdll.NtClose(token);
        }
        _ = _fixture;
    }

    [Fact]
    public void Privilege_names_and_values_are_windows_own()
    {
        Assert.True(Advapi32.LookupPrivilegeValue(null, "SeDebugPrivilege", out var luid));
        Assert.Equal((20u, 0), (luid.LowPart, luid.HighPart));
        Assert.True(Advapi32.LookupPrivilegeValue(null, "seloaddriverprivilege", out luid));
        Assert.Equal(10u, luid.LowPart);
        Assert.False(Advapi32.LookupPrivilegeValue(null, "SeNoSuchPrivilege", out _));
        Assert.Equal((uint)Win32Error.ERROR_NO_SUCH_PRIVILEGE, Kernel32.GetLastError());
        luid = new LUID { LowPart = 9 };
        Assert.True(Advapi32.LookupPrivilegeName(null, luid, out var name));
        Assert.Equal("SeTakeOwnershipPrivilege", name);
        luid.LowPart = 1;
        Assert.False(Advapi32.LookupPrivilegeName(null, luid, out _));
        Assert.Equal((uint)Win32Error.ERROR_NO_SUCH_PRIVILEGE, Kernel32.GetLastError());
    }

    [Fact]
    public void String_sids_and_sddl_convert_with_windows_errors()
    {
        Assert.True(Advapi32.ConvertStringSidToSid("SY", out var sid));
        Assert.True(Advapi32.ConvertSidToStringSid(sid, out var text));
        Assert.Equal("S-1-5-18", text);
        Assert.False(Advapi32.ConvertStringSidToSid("S-1-5", out _));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_SID, Kernel32.GetLastError());
        Assert.False(Advapi32.ConvertSidToStringSid([9, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], out _));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_SID, Kernel32.GetLastError());

        Assert.True(Advapi32.ConvertStringSecurityDescriptorToSecurityDescriptor("O:BAD:(A;;GA;;;WD)", Advapi32.SDDL_REVISION_1, out var sd, out var size));
        Assert.Equal((uint)sd!.Length, size);
        Assert.True(Advapi32.ConvertSecurityDescriptorToStringSecurityDescriptor(sd, Advapi32.SDDL_REVISION_1, SecurityInformation.All, out text, out var length));
        Assert.Equal("O:BAD:(A;;GA;;;WD)", text);
        Assert.Equal((uint)text!.Length + 1, length);
        Assert.False(Advapi32.ConvertStringSecurityDescriptorToSecurityDescriptor("D:(A;;GA;;;WD)", 2, out _, out _));
        Assert.Equal((uint)Win32Error.ERROR_UNKNOWN_REVISION, Kernel32.GetLastError());
        Assert.False(Advapi32.ConvertStringSecurityDescriptorToSecurityDescriptor("D:(A;;ROB;;;WD)", Advapi32.SDDL_REVISION_1, out _, out _));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_ACL, Kernel32.GetLastError());
        sd[0] = 7;
        Assert.False(Advapi32.ConvertSecurityDescriptorToStringSecurityDescriptor(sd, Advapi32.SDDL_REVISION_1, SecurityInformation.All, out _, out _));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_SECURITY_DESCR, Kernel32.GetLastError());
    }
}
