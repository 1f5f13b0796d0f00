using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Security;

/// <summary>
/// NtQuerySecurityObject / NtSetSecurityObject and their Advapi32 faces: READ_CONTROL to read,
/// WRITE_DAC / WRITE_OWNER to write, ACCESS_SYSTEM_SECURITY for the SACL, STATUS_BUFFER_TOO_SMALL
/// with the length, a bad owner STATUS_INVALID_OWNER, a malformed descriptor STATUS_INVALID_SECURITY_DESCR.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class SecurityObjectCallTests
{
    [Fact]
    public void A_DACL_set_with_SetKernelObjectSecurity_is_what_GetKernelObjectSecurity_returns_and_what_the_next_open_is_checked_against()
    {
        var name = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            var before = Sddl.Parse(Sddl.ToSddl(SeTest.Query(handle), SecurityInformation.All));
            Assert.True(Advapi32.SetKernelObjectSecurity(handle, SeTest.Dacl, SeTest.Sd("D:(A;;GR;;;WD)")));
            var bytes = Advapi32.GetKernelObjectSecurity(handle, SeTest.OwnerGroupDacl);
            Assert.NotNull(bytes);
            Assert.Equal(NtStatus.STATUS_SUCCESS, SecurityDescriptor.TryReadSelfRelative(bytes, out var after));
            // The owner and group stay; the DACL is the new one, its generic right mapped (GENERIC_READ: STANDARD_RIGHTS_READ | EVENT_QUERY_STATE).
            Assert.Equal(before.Owner, after!.Owner);
            Assert.Equal(before.Group, after.Group);
            var ace = Assert.Single(after.Dacl!.Aces);
            Assert.Equal(WellKnownSids.World, ace.Sid);
            Assert.Equal(AccessMask.READ_CONTROL | AccessMask.EVENT_QUERY_STATE, ace.Mask);

            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(name, AccessMask.EVENT_QUERY_STATE, out var reader));
            SeTest.Close(reader);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, SeTest.OpenEvent(name, AccessMask.EVENT_MODIFY_STATE, out _));
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void Without_WRITE_DAC_the_DACL_cannot_be_set_and_without_READ_CONTROL_it_cannot_be_read_STATUS_ACCESS_DENIED()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName(), null, AccessMask.EVENT_QUERY_STATE | AccessMask.SYNCHRONIZE, out var handle));
        try
        {
            var original = SeTest.QueryRaw(handle, SeTest.Dacl, 0).Status;
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, original);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtSetSecurityObject(handle, SeTest.Dacl, SeTest.Sd("D:(A;;GA;;;WD)")));
            Assert.False(Advapi32.SetKernelObjectSecurity(handle, SeTest.Dacl, SeTest.Sd("D:(A;;GA;;;WD)")));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
            // WRITE_OWNER is what the owner needs.
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtSetSecurityObject(handle, (uint)SecurityInformation.OWNER_SECURITY_INFORMATION,
                SeTest.Sd($"O:{SeTest.MySid}")));
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void A_buffer_too_small_is_STATUS_BUFFER_TOO_SMALL_with_the_length_needed_and_nothing_written()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName(), null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            var full = SeTest.QueryRaw(handle, SeTest.OwnerGroupDacl, 4096);
            Assert.Equal(NtStatus.STATUS_SUCCESS, full.Status);
            var length = (int)full.Needed;
            Assert.Equal(Sddl.Parse(Sddl.ToSddl(SeTest.Query(handle), (SecurityInformation)SeTest.OwnerGroupDacl)).BinaryLength, length);

            var small = SeTest.QueryRaw(handle, SeTest.OwnerGroupDacl, length - 1);
            Assert.Equal(NtStatus.STATUS_BUFFER_TOO_SMALL, small.Status);
            Assert.Equal((uint)length, small.Needed);
            Assert.All(small.Bytes, b => Assert.Equal(0, b));

            Assert.False(Advapi32.GetKernelObjectSecurity(handle, SeTest.OwnerGroupDacl, new byte[8], out var needed));
            Assert.Equal((uint)Win32Error.ERROR_INSUFFICIENT_BUFFER, Kernel32.GetLastError());
            Assert.Equal((uint)length, needed);
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void A_malformed_descriptor_is_STATUS_INVALID_SECURITY_DESCR_and_changes_nothing()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName(), null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            var before = SeTest.QuerySddl(handle);
            Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, Ntdll.NtSetSecurityObject(handle, SeTest.Dacl, [1, 2, 3]));
            Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, Ntdll.NtSetSecurityObject(handle, SeTest.Dacl, []));
            // Revision 2, then an absolute (not self-relative) header.
            Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, Ntdll.NtSetSecurityObject(handle, SeTest.Dacl, [2, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
            Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, Ntdll.NtSetSecurityObject(handle, SeTest.Dacl, [1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, Ntdll.NtSetSecurityObject(handle, 0, SeTest.Sd("D:(A;;GA;;;WD)")));
            Assert.Equal(before, SeTest.QuerySddl(handle));
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void The_owner_may_be_set_only_to_the_callers_user_or_an_owner_group_STATUS_INVALID_OWNER()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName(), null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            var before = SeTest.QuerySddl(handle);
            const uint owner = (uint)SecurityInformation.OWNER_SECURITY_INFORMATION;
            Assert.Equal(NtStatus.STATUS_INVALID_OWNER, Ntdll.NtSetSecurityObject(handle, owner, SeTest.Sd("O:WD")));
            Assert.Equal(NtStatus.STATUS_INVALID_OWNER, Ntdll.NtSetSecurityObject(handle, owner, SeTest.Sd("D:(A;;GA;;;WD)")));
            Assert.Equal(NtStatus.STATUS_INVALID_PRIMARY_GROUP, Ntdll.NtSetSecurityObject(handle, (uint)SecurityInformation.GROUP_SECURITY_INFORMATION,
                SeTest.Sd("D:(A;;GA;;;WD)")));
            Assert.Equal(before, SeTest.QuerySddl(handle));

            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetSecurityObject(handle, owner, SeTest.Sd($"O:{SeTest.MySid}")));
            Assert.Equal(Sid.Parse(SeTest.MySid), SeTest.Query(handle).Owner);
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void The_SACL_needs_ACCESS_SYSTEM_SECURITY_which_needs_SeSecurityPrivilege_enabled()
    {
        var name = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            const uint sacl = (uint)SecurityInformation.SACL_SECURITY_INFORMATION;
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, SeTest.QueryRaw(handle, sacl, 256).Status);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtSetSecurityObject(handle, sacl, SeTest.Sd("S:")));
            // The privilege is held by administrators but disabled by default, as on Windows.
            Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, SeTest.OpenEvent(name, AccessMask.ACCESS_SYSTEM_SECURITY, out _));
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void An_object_made_without_a_descriptor_gets_none_later_STATUS_NO_SECURITY_ON_OBJECT()
    {
        nint handle;
        // Unnamed, no descriptor given: nobody may claim it by setting one.
        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCreateEvent(&handle, AccessMask.EVENT_ALL_ACCESS, default, EventType.NotificationEvent, false));
        try
        {
            Assert.Equal(NtStatus.STATUS_NO_SECURITY_ON_OBJECT,
                Ntdll.NtSetSecurityObject(handle, (uint)SecurityInformation.OWNER_SECURITY_INFORMATION | SeTest.Dacl, SeTest.Sd($"O:{SeTest.MySid}D:(A;;GA;;;{SeTest.MySid})")));
            Assert.Equal(Win32Error.ERROR_NO_SECURITY_ON_OBJECT, StatusMapping.RtlNtStatusToDosError(NtStatus.STATUS_NO_SECURITY_ON_OBJECT));
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void A_SACL_given_at_creation_needs_SeSecurityPrivilege_enabled_STATUS_PRIVILEGE_NOT_HELD()
    {
        var name = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, SeTest.CreateEvent(name, SeTest.Sd("D:(A;;GA;;;WD)S:"), AccessMask.EVENT_ALL_ACCESS, out var refused));
        Assert.Equal(0, refused);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, SeTest.OpenEvent(name, AccessMask.SYNCHRONIZE, out _));
    }
}
