using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Tests.Se;

/// <summary>
/// SeAccessCheck's truth table (the rules Windows documents in "How DACLs control access to an
/// object" and Wine's test_AccessCheck checks on Windows): ACE order, deny first only when first,
/// MAXIMUM_ALLOWED, owner rights, OWNER RIGHTS, NULL and empty DACLs, inherit-only ACEs, generic
/// mapping and the privileges that bypass.
/// </summary>
public sealed class AccessCheckTests
{
    private const uint Query = AccessMask.EVENT_QUERY_STATE, Modify = AccessMask.EVENT_MODIFY_STATE;
    private static readonly GenericMapping Mapping = ObjectTypes.Event.GenericMapping;
    private static readonly uint Valid = ObjectTypes.Event.ValidAccessMask;

    private static readonly Token Alice = Token.FromCredentials(1000, 1000, [27]);
    private static readonly Sid AliceSid = Sid.ForUnixUser(1000);
    private static readonly Sid Bob = Sid.ForUnixUser(1001);

    private static (NtStatus Status, uint Granted) Check(string sddl, uint desired, Token? token = null)
    {
        var status = AccessCheck.Check(Sddl.Parse(sddl), token ?? Alice, desired, Mapping, Valid, out var granted);
        return (status, granted);
    }

    private static string Alice_ => AliceSid.ToString();

    [Fact]
    public void An_allow_ace_for_the_user_grants_what_it_lists_and_no_more()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:SYD:(A;;0x1;;;{Alice_})", Query));
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;;0x1;;;{Alice_})", Query | Modify).Status);
    }

    [Fact]
    public void Allow_aces_add_up()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query | Modify), Check($"O:SYD:(A;;0x1;;;{Alice_})(A;;0x2;;;WD)", Query | Modify));
    }

    [Fact]
    public void A_deny_before_the_allow_denies()
    {
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(D;;0x2;;;WD)(A;;0x3;;;{Alice_})", Modify).Status);
        // Bits the deny does not name are still granted.
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:SYD:(D;;0x2;;;WD)(A;;0x3;;;{Alice_})", Query));
    }

    [Fact]
    public void A_deny_after_the_allow_has_decided_changes_nothing()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query | Modify), Check($"O:SYD:(A;;0x3;;;{Alice_})(D;;0x2;;;WD)", Query | Modify));
    }

    [Fact]
    public void Aces_for_someone_else_do_not_apply()
    {
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;;0x3;;;{Bob})", Query).Status);
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:SYD:(D;;0x1;;;{Bob})(A;;0x1;;;{Alice_})", Query));
    }

    [Fact]
    public void Groups_of_the_token_count()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check("O:SYD:(A;;0x1;;;S-1-22-2-27)", Query));
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check("O:SYD:(A;;0x1;;;AU)", Query));
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:(A;;0x1;;;BA)", Query).Status);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:(D;;0x1;;;S-1-22-2-27)(A;;0x1;;;WD)", Query).Status);
    }

    [Fact]
    public void Maximum_allowed_grants_what_the_aces_allow_minus_what_they_deny_first()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query | AccessMask.SYNCHRONIZE),
            Check($"O:SYD:(D;;0x2;;;WD)(A;;0x100003;;;{Alice_})", AccessMask.MAXIMUM_ALLOWED));
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query | Modify | AccessMask.SYNCHRONIZE),
            Check($"O:SYD:(A;;0x100003;;;{Alice_})(D;;0x2;;;WD)", AccessMask.MAXIMUM_ALLOWED));
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;;0x1;;;{Bob})", AccessMask.MAXIMUM_ALLOWED).Status);
        // MAXIMUM_ALLOWED with a specific bit: the bit must be among those granted.
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;;0x1;;;{Alice_})", AccessMask.MAXIMUM_ALLOWED | Modify).Status);
    }

    [Fact]
    public void The_owner_may_always_read_and_change_the_dacl()
    {
        var owned = $"O:{Alice_}D:(D;;0x3;;;WD)";
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.READ_CONTROL | AccessMask.WRITE_DAC), Check(owned, AccessMask.READ_CONTROL | AccessMask.WRITE_DAC));
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check(owned, Query).Status);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check(owned, AccessMask.WRITE_OWNER).Status);
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.READ_CONTROL | AccessMask.WRITE_DAC), Check(owned, AccessMask.MAXIMUM_ALLOWED));
        // Not the owner: nothing implicit.
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:{Bob}D:", AccessMask.READ_CONTROL).Status);
    }

    [Fact]
    public void An_owner_rights_ace_replaces_the_owners_implicit_rights()
    {
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:{Alice_}D:(A;;0x1;;;OW)", AccessMask.WRITE_DAC).Status);
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:{Alice_}D:(A;;0x1;;;OW)", Query));
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:{Alice_}D:(A;;0x1;;;OW)", AccessMask.MAXIMUM_ALLOWED));
        // OWNER RIGHTS says nothing about who is not the owner.
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:{Bob}D:(A;;0x1;;;OW)", Query).Status);
    }

    [Fact]
    public void No_dacl_grants_everything_and_an_empty_dacl_nothing()
    {
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query | Modify), Check("O:SY", Query | Modify));
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.EVENT_ALL_ACCESS), Check("O:SYD:NO_ACCESS_CONTROL", AccessMask.MAXIMUM_ALLOWED));
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), AccessCheck.Check(null, Alice, Query, Mapping, Valid, out var granted) is var s ? (s, granted) : default);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:", Query).Status);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:", AccessMask.MAXIMUM_ALLOWED).Status);
    }

    [Fact]
    public void Inherit_only_aces_do_not_apply_to_the_object_itself()
    {
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;OICIIO;0x1;;;{Alice_})", Query).Status);
        Assert.Equal((NtStatus.STATUS_SUCCESS, Query), Check($"O:SYD:(D;IO;0x1;;;WD)(A;;0x1;;;{Alice_})", Query));
    }

    [Fact]
    public void Generic_rights_are_mapped_in_the_request_and_in_the_aces()
    {
        var read = Mapping.Map(AccessMask.GENERIC_READ);
        Assert.Equal((NtStatus.STATUS_SUCCESS, read), Check($"O:SYD:(A;;GR;;;{Alice_})", AccessMask.GENERIC_READ));
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.EVENT_ALL_ACCESS), Check($"O:SYD:(A;;GA;;;{Alice_})", AccessMask.GENERIC_ALL));
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(A;;GR;;;{Alice_})", AccessMask.GENERIC_WRITE).Status);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check($"O:SYD:(D;;GW;;;WD)(A;;GA;;;{Alice_})", Modify).Status);
    }

    [Fact]
    public void Bits_the_type_does_not_define_and_no_access_at_all_are_refused()
    {
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:NO_ACCESS_CONTROL", 0x8).Status);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:NO_ACCESS_CONTROL", 0).Status);
    }

    [Fact]
    public void Access_system_security_needs_the_security_privilege_enabled()
    {
        var root = Token.FromCredentials(0, 0);
        Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, Check("O:SYD:NO_ACCESS_CONTROL", AccessMask.ACCESS_SYSTEM_SECURITY).Status);
        Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, Check("O:SYD:NO_ACCESS_CONTROL", AccessMask.ACCESS_SYSTEM_SECURITY, root).Status);
        Assert.Equal(NtStatus.STATUS_SUCCESS, root.Adjust(false, [new(Privilege.SeSecurityPrivilege, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)], null, []));
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.ACCESS_SYSTEM_SECURITY | Query),
            Check($"O:SYD:(A;;0x1;;;BA)", AccessMask.ACCESS_SYSTEM_SECURITY | Query, root));
    }

    [Fact]
    public void Take_ownership_privilege_grants_write_owner_whatever_the_dacl_says()
    {
        var root = Token.FromCredentials(0, 0);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Check("O:SYD:(D;;WO;;;WD)", AccessMask.WRITE_OWNER, root).Status);
        root.Adjust(false, [new(Privilege.SeTakeOwnershipPrivilege, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)], null, []);
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.WRITE_OWNER), Check("O:SYD:(D;;WO;;;WD)", AccessMask.WRITE_OWNER, root));
        Assert.Equal((NtStatus.STATUS_SUCCESS, AccessMask.WRITE_OWNER), Check("O:SYD:", AccessMask.MAXIMUM_ALLOWED, root));
    }

    [Fact]
    public void Deny_only_groups_count_for_deny_aces_only()
    {
        var token = Token.FromCredentials(1000, 1000);
        var denyOnly = new TokenGroup(WellKnownSids.BuiltinAdministrators, GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY);
        Assert.True(denyOnly.IsDenyOnly);
        Assert.False(token.Contains(WellKnownSids.BuiltinAdministrators, forDeny: true));
        Assert.True(token.Contains(WellKnownSids.World, forDeny: true));
    }
}
