using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;

namespace KernelBridge.Tests.Security;

/// <summary>
/// SeAssignSecurity through the namespace: a directory's inheritable ACEs become a new child's DACL
/// (OI for objects, CI for directories, marked INHERITED_ACE, generic rights mapped, CREATOR OWNER
/// replaced); creating a name needs DIRECTORY_CREATE_OBJECT on the directory.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class InheritanceTests
{
    [Fact]
    public void An_event_created_in_a_directory_with_inheritable_ACEs_gets_them_mapped_and_marked_inherited()
    {
        var directoryName = SeTest.UniqueName("dir");
        var descriptor = SeTest.Sd($"D:(A;;GA;;;BA)(A;;GA;;;{SeTest.MySid})(A;OI;GR;;;WD)(A;OICI;GA;;;CO)(A;CI;0x3;;;AU)");
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateDirectory(directoryName, descriptor, out var directory));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(directoryName + @"\child", null, AccessMask.EVENT_ALL_ACCESS, out var child));
            try
            {
                var dacl = SeTest.Query(child).Dacl!;
                var owner = SeTest.Query(child).Owner!;
                // Only the OI ACEs reach an object; CREATOR OWNER became the owner; each is marked inherited and mapped.
                Assert.Equal(2, dacl.Count);
                Assert.Contains(dacl.Aces, a => a.Sid == WellKnownSids.World && a.Mask == (AccessMask.READ_CONTROL | AccessMask.EVENT_QUERY_STATE)
                    && (a.Flags & AceFlags.INHERITED_ACE) != 0);
                Assert.Contains(dacl.Aces, a => a.Sid == owner && a.Mask == AccessMask.EVENT_ALL_ACCESS && (a.Flags & AceFlags.INHERITED_ACE) != 0);
                Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(directoryName + @"\child", AccessMask.EVENT_QUERY_STATE, out var reader));
                SeTest.Close(reader);
            }
            finally
            {
                SeTest.Close(child);
            }

            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateDirectory(directoryName + @"\sub", null, out var sub));
            try
            {
                var dacl = SeTest.Query(sub).Dacl!;
                // A directory gets the CI ACEs (the AU one, mapped through the directory mapping) and keeps OI ones inherit-only for below.
                Assert.Contains(dacl.Aces, a => a.Sid == WellKnownSids.AuthenticatedUsers && a.Mask == 0x3 && (a.Flags & AceFlags.INHERITED_ACE) != 0);
                Assert.Contains(dacl.Aces, a => a.Sid == WellKnownSids.World && a.IsInheritOnly);
            }
            finally
            {
                SeTest.Close(sub);
            }
        }
        finally
        {
            SeTest.Close(directory);
        }
    }

    [Fact]
    public void An_explicit_descriptor_wins_over_what_the_directory_passes_on()
    {
        var directoryName = SeTest.UniqueName("dir");
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateDirectory(directoryName, SeTest.Sd("D:(A;OICI;GA;;;WD)"), out var directory));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(directoryName + @"\child", SeTest.Sd("D:(A;;GR;;;SY)"), AccessMask.EVENT_ALL_ACCESS,
                out var child));
            var ace = Assert.Single(SeTest.Query(child).Dacl!.Aces);
            Assert.Equal(WellKnownSids.LocalSystem, ace.Sid);
            SeTest.Close(child);
        }
        finally
        {
            SeTest.Close(directory);
        }
    }

    [Fact]
    public void Creating_a_name_in_a_directory_that_does_not_grant_DIRECTORY_CREATE_OBJECT_is_STATUS_ACCESS_DENIED()
    {
        var directoryName = SeTest.UniqueName("dir");
        // Everyone may look in; nobody may create (the caller is neither named nor the owner's... rights include no create).
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateDirectory(directoryName, SeTest.Sd("D:(A;;0x120003;;;WD)"), out var directory));
        try
        {
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, SeTest.CreateEvent(directoryName + @"\child", null, AccessMask.EVENT_ALL_ACCESS, out var child));
            Assert.Equal(0, child);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, SeTest.CreateDirectory(directoryName + @"\sub", null, out _));
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(directoryName, out var reader, AccessMask.DIRECTORY_QUERY));
            SeTest.Close(reader);
        }
        finally
        {
            SeTest.Close(directory);
        }
    }
}
