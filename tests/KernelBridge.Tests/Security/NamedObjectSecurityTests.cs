using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;

namespace KernelBridge.Tests.Security;

/// <summary>
/// Named objects carry security descriptors: the creator's (OBJECT_ATTRIBUTES.SecurityDescriptor),
/// else what the directory passes on, else the token's default DACL; every open by name is checked
/// against it (SeAccessCheck), and so is a duplicate that asks for more than the source handle holds.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class NamedObjectSecurityTests
{
    [Fact]
    public void A_named_event_whose_DACL_denies_the_caller_a_right_refuses_that_right_and_grants_another()
    {
        var name = SeTest.UniqueName();
        var descriptor = SeTest.Sd($"D:(D;;0x2;;;{SeTest.MySid})(A;;0x1F0003;;;WD)");
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, descriptor, AccessMask.EVENT_ALL_ACCESS, out var created));
        try
        {
            // The creator holds what it asked for, whatever the descriptor says.
            Assert.Equal(AccessMask.EVENT_ALL_ACCESS, ObTest.Basic(created).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, SeTest.OpenEvent(name, AccessMask.EVENT_MODIFY_STATE, out var refused));
            Assert.Equal(0, refused);
            Kernel32.SetLastError(0u);
            Assert.Equal(0, Kernel32.OpenEvent(AccessMask.EVENT_MODIFY_STATE, false, name[@"\BaseNamedObjects\".Length..]));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());

            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(name, AccessMask.SYNCHRONIZE | AccessMask.EVENT_QUERY_STATE, out var allowed));
            Assert.Equal(AccessMask.SYNCHRONIZE | AccessMask.EVENT_QUERY_STATE, ObTest.Basic(allowed).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtSetEvent(allowed, null));
            SeTest.Close(allowed);
        }
        finally
        {
            SeTest.Close(created);
        }
    }

    [Fact]
    public void MAXIMUM_ALLOWED_grants_what_the_DACL_allows_plus_the_owners_READ_CONTROL_and_WRITE_DAC_on_open_and_on_duplicate()
    {
        var name = SeTest.UniqueName();
        // An OWNER RIGHTS ACE takes the place of the owner's implicit rights: the caller gets only what the ACEs give.
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, SeTest.Sd("D:(A;;0x100001;;;WD)(A;;0x100001;;;OW)"), AccessMask.SYNCHRONIZE, out var created));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(name, AccessMask.MAXIMUM_ALLOWED, out var maximum));
            Assert.Equal(AccessMask.SYNCHRONIZE | AccessMask.EVENT_QUERY_STATE, ObTest.Basic(maximum).GrantedAccess);
            SeTest.Close(maximum);

            // A duplicate asking more than the source holds is checked against the descriptor.
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(created, out var duplicate, AccessMask.MAXIMUM_ALLOWED, 0));
            Assert.Equal(AccessMask.SYNCHRONIZE | AccessMask.EVENT_QUERY_STATE, ObTest.Basic(duplicate).GrantedAccess);
            SeTest.Close(duplicate);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.Duplicate(created, out var refused, AccessMask.EVENT_MODIFY_STATE, 0));
            Assert.Equal(0, refused);
            // What the source holds passes unchecked.
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(created, out var same, AccessMask.SYNCHRONIZE, 0));
            SeTest.Close(same);
        }
        finally
        {
            SeTest.Close(created);
        }

        // Without one, the owner (the caller's own user here) adds READ_CONTROL and WRITE_DAC.
        var owned = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(owned, SeTest.Sd($"O:{SeTest.MySid}D:(A;;0x100001;;;WD)"), AccessMask.SYNCHRONIZE, out var mine));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(owned, AccessMask.MAXIMUM_ALLOWED, out var maximum));
            Assert.Equal(AccessMask.SYNCHRONIZE | AccessMask.EVENT_QUERY_STATE | AccessMask.READ_CONTROL | AccessMask.WRITE_DAC, ObTest.Basic(maximum).GrantedAccess);
            SeTest.Close(maximum);
        }
        finally
        {
            SeTest.Close(mine);
        }
    }

    [Fact]
    public void A_new_object_without_a_descriptor_gets_the_creators_owner_and_default_DACL_with_generic_rights_mapped()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName(), null, AccessMask.EVENT_ALL_ACCESS, out var handle));
        try
        {
            var descriptor = SeTest.Query(handle);
            // Root's token owner is BUILTIN\Administrators (an elevated administrator's); anyone else's their user.
            var expectedOwner = KernelBridge.Platform.Interop.Libc.EffectiveUserId() == 0 ? WellKnownSids.BuiltinAdministrators : Sid.Parse(SeTest.MySid);
            Assert.Equal(expectedOwner, descriptor.Owner);
            Assert.NotNull(descriptor.Dacl);
            Assert.Contains(descriptor.Dacl!.Aces, a => a.Sid == WellKnownSids.LocalSystem && a.Mask == AccessMask.EVENT_ALL_ACCESS);
            Assert.Contains(descriptor.Dacl.Aces, a => a.Sid == expectedOwner && a.Mask == AccessMask.EVENT_ALL_ACCESS);
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void A_malformed_descriptor_on_create_is_STATUS_INVALID_SECURITY_DESCR_and_makes_nothing()
    {
        var name = SeTest.UniqueName();
        var status = SeTest.CreateEvent(name, [1, 0, 0x04, 0x80, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], AccessMask.EVENT_ALL_ACCESS, out var handle);
        Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, status);
        Assert.Equal(0, handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, SeTest.OpenEvent(name, AccessMask.SYNCHRONIZE, out _));
    }

    [Fact]
    public void OBJ_OPENIF_on_an_existing_object_is_an_open_checked_against_its_descriptor()
    {
        var name = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, SeTest.Sd("D:(A;;0x100001;;;WD)(A;;0x100001;;;OW)"), AccessMask.EVENT_ALL_ACCESS, out var first));
        try
        {
            nint second;
            var openIf = new ObjectAttributes(name, ObjectAttributeFlags.OBJ_OPENIF);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtCreateEvent(&second, AccessMask.EVENT_MODIFY_STATE, openIf, EventType.NotificationEvent, false));
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_EXISTS, Ntdll.NtCreateEvent(&second, AccessMask.SYNCHRONIZE, openIf, EventType.NotificationEvent, false));
            SeTest.Close(second);
        }
        finally
        {
            SeTest.Close(first);
        }
    }

    [Fact]
    public void A_new_object_may_not_be_given_an_owner_the_creator_cannot_be_STATUS_INVALID_OWNER()
    {
        var name = SeTest.UniqueName();
        Assert.Equal(NtStatus.STATUS_INVALID_OWNER, SeTest.CreateEvent(name, SeTest.Sd("O:AND:(A;;GA;;;WD)"), AccessMask.EVENT_ALL_ACCESS, out var handle));
        Assert.Equal(0, handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, SeTest.OpenEvent(name, AccessMask.SYNCHRONIZE, out _));
    }
}
