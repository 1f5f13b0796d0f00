using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// Name lookup (ObpLookupObjectName) as Windows answers it: Wine om.c test_name_limits,
/// test_directory, test_symboliclink, test_null_device, test_globalroot (run on Windows), and WRK
/// ob/obdir.c for the statuses.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class NameLookupTests
{
    [Fact]
    public void CreateFile_of_a_device_nobody_created_fails_with_ERROR_FILE_NOT_FOUND()
    {
        var (handle, error) = ObTest.CreateFile(@"\\.\NoSuchDevice");
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, error);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, ObTest.NtCreateFile(@"\??\NoSuchDevice", out _));
    }

    [Fact]
    public void CreateFile_of_dot_Device_Null_fails_with_ERROR_PATH_NOT_FOUND_because_DosDevices_has_no_Device_directory()
    {
        var (handle, error) = ObTest.CreateFile(@"\\.\Device\Null");
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.Equal((uint)Win32Error.ERROR_PATH_NOT_FOUND, error);
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.NtCreateFile(@"\??\Device\Null", out _));
    }

    [Theory]
    [InlineData(@"Device\Echo")]
    [InlineData(@"??\Echo")]
    [InlineData("")]
    public void A_relative_name_without_a_root_directory_is_STATUS_OBJECT_PATH_SYNTAX_BAD(string name)
    {
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, ObTest.NtCreateFile(name, out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, ObTest.OpenDirectory(name, out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, ObTest.OpenLink(name, out _));
    }

    [Theory]
    [InlineData(@"\Device\\Echo")]
    [InlineData(@"\\Device\Echo")]
    [InlineData(@"\??\\Echo")]
    public void A_double_backslash_is_STATUS_OBJECT_NAME_INVALID(string name)
    {
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, ObTest.NtCreateFile(name, out _));
    }

    [Fact]
    public void A_double_backslash_in_a_directory_or_link_name_is_STATUS_OBJECT_NAME_INVALID()
    {
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, ObTest.OpenDirectory(@"\\Device", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, ObTest.OpenLink(@"\??\\Echo", out _));
    }

    /// <summary>
    /// ObpLookupObjectName eats the separator after a directory's name, then finds an empty
    /// component: STATUS_OBJECT_NAME_INVALID (Wine om.c: "\BaseNamedObjects\" on Windows).
    /// </summary>
    [Theory]
    [InlineData(@"\Device\")]
    [InlineData(@"\??\")]
    public void A_trailing_backslash_after_a_directory_is_STATUS_OBJECT_NAME_INVALID(string name)
    {
        var status = ObTest.OpenDirectory(name, out var handle);
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, status);
        status = ObTest.NtCreateFile(name, out handle);
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, status);
    }

    [Fact]
    public void A_trailing_backslash_after_a_missing_name_is_STATUS_OBJECT_PATH_NOT_FOUND()
    {
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.NtCreateFile(@"\Device\NoSuchDevice\", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.OpenDirectory(@"\NoSuchDirectory\", out _));
    }

    [Fact]
    public void A_missing_intermediate_directory_is_STATUS_OBJECT_PATH_NOT_FOUND_and_a_missing_last_name_is_STATUS_OBJECT_NAME_NOT_FOUND()
    {
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.NtCreateFile(@"\NoSuchDirectory\Echo", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.OpenDirectory(@"\NoSuchDirectory\Device", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, ObTest.NtCreateFile(@"\Device\NoSuchDevice", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, ObTest.OpenDirectory(@"\NoSuchDirectory", out _));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, ObTest.OpenLink(@"\??\NoSuchLink", out _));
    }

    [Theory]
    [InlineData(@"\Device")]
    [InlineData(@"\")]
    [InlineData(@"\??")]
    [InlineData(@"\DosDevices")]
    public void Opening_a_directory_with_NtCreateFile_is_STATUS_OBJECT_TYPE_MISMATCH(string name)
    {
        var status = ObTest.NtCreateFile(name, out var handle);
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, status);
    }

    [Theory]
    [InlineData(@"\Device\Echo")]
    [InlineData(@"\??\Echo")]
    [InlineData(@"\Device\Null")]
    public void NtOpenDirectoryObject_on_a_device_is_STATUS_OBJECT_TYPE_MISMATCH(string name)
    {
        var status = ObTest.OpenDirectory(name, out var handle);
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, status);
    }

    [Theory]
    [InlineData(@"\Device\Null")]
    [InlineData(@"\Device")]
    public void NtOpenSymbolicLinkObject_on_something_else_is_STATUS_OBJECT_TYPE_MISMATCH(string name)
    {
        var status = ObTest.OpenLink(name, out var handle);
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, status);
    }

    [Fact]
    public void The_DosDevices_link_Echo_targets_Device_Echo()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            Assert.Equal("SymbolicLink", ObTest.TypeName(link));
            const string target = @"\Device\Echo";
            var buffer = stackalloc char[64];
            new Span<char>(buffer, 64).Fill('\uCCCC');
            ushort length = 0xBEEF;
            uint returned = 0xDEADBEEF;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQuerySymbolicLinkObject(link, buffer, 128, &length, &returned));
            Assert.Equal(target.Length * 2, length);
            Assert.Equal((uint)(target.Length * 2 + 2), returned);
            Assert.Equal(target, new string(buffer, 0, length / 2));
            Assert.Equal('\0', buffer[target.Length]);
        }
        finally
        {
            ObTest.Close(link);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(24)]
    public void NtQuerySymbolicLinkObject_with_too_small_a_buffer_is_STATUS_BUFFER_TOO_SMALL_with_the_size_needed(int maximumLength)
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            var buffer = stackalloc char[64];
            new Span<char>(buffer, 64).Fill('\uCCCC');
            ushort length = 0xBEEF;
            uint returned = 0xDEADBEEF;
            Assert.Equal(NtStatus.STATUS_BUFFER_TOO_SMALL, Ntdll.NtQuerySymbolicLinkObject(link, buffer, (ushort)maximumLength, &length, &returned));
            Assert.Equal((uint)(@"\Device\Echo".Length * 2 + 2), returned);
            Assert.Equal(0xBEEF, length);
        }
        finally
        {
            ObTest.Close(link);
        }
    }

    [Fact]
    public void GLOBALROOT_leads_back_to_the_root_so_it_opens_the_Null_device()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(@"\??\GLOBALROOT\Device\Null", out var viaNt));
        var (viaWin32, error) = ObTest.CreateFile(@"\\.\GLOBALROOT\Device\Null");
        try
        {
            Assert.True(viaWin32 != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile failed with {error}");
            Assert.Equal(@"\Device\Null", ObTest.ObjectName(viaNt));
            Assert.Equal(@"\Device\Null", ObTest.ObjectName(viaWin32));
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\??\GLOBALROOT\Device", out var directory));
            Assert.Equal(@"\Device", ObTest.ObjectName(directory));
            ObTest.Close(directory);
        }
        finally
        {
            ObTest.Close(viaNt);
            if (viaWin32 != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(viaWin32);
        }
    }

    [Fact]
    public void GLOBALROOT_is_a_symbolic_link_with_an_empty_target()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\GLOBALROOT", out var link));
        try
        {
            var buffer = stackalloc char[16];
            ushort length = 0xBEEF;
            uint returned = 0;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQuerySymbolicLinkObject(link, buffer, 32, &length, &returned));
            Assert.Equal(0, length);
            Assert.Equal(2u, returned);
        }
        finally
        {
            ObTest.Close(link);
        }
    }

    [Fact]
    public void With_OBJ_CASE_INSENSITIVE_names_match_in_any_case()
    {
        const ObjectAttributeFlags insensitive = ObjectAttributeFlags.OBJ_CASE_INSENSITIVE;
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(@"\DEVICE\echo", out var file, attributes: insensitive));
        Assert.Equal(@"\Device\Echo", ObTest.ObjectName(file));
        ObTest.Close(file);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(@"\??\ECHO", out file, attributes: insensitive));
        ObTest.Close(file);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\dEvIcE", out var directory, attributes: insensitive));
        Assert.Equal(@"\Device", ObTest.ObjectName(directory));
        ObTest.Close(directory);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\eCHO", out var link, attributes: insensitive));
        ObTest.Close(link);
    }

    /// <summary>
    /// Windows' ObCaseInsensitive setting is 1 by default, and ObpLookupObjectName then forces
    /// OBJ_CASE_INSENSITIVE when the type asked for is NULL (IoCreateFile opens by name with no type)
    /// or is a CaseInsensitive type: Directory, SymbolicLink and Device are (WRK ob/obdir.c
    /// ObpLookupObjectName, ob/obinit.c, io/iomgr/ioinit.c). Only types such as Event or Mutant,
    /// which are not, see a case-sensitive namespace (Wine om.c test_case_sensitive).
    /// </summary>
    [Fact]
    public void Without_OBJ_CASE_INSENSITIVE_file_directory_and_link_lookups_still_ignore_case_as_ObCaseInsensitive_is_on()
    {
        const ObjectAttributeFlags sensitive = ObjectAttributeFlags.None;
        var file = ObTest.NtCreateFile(@"\DEVICE\Echo", out var handle, attributes: sensitive);
        ObTest.Close(handle);
        var directory = ObTest.OpenDirectory(@"\DEVICE", out handle, attributes: sensitive);
        ObTest.Close(handle);
        var link = ObTest.OpenLink(@"\??\ECHO", out handle, attributes: sensitive);
        ObTest.Close(handle);
        Assert.Equal((NtStatus.STATUS_SUCCESS, NtStatus.STATUS_SUCCESS, NtStatus.STATUS_SUCCESS), (file, directory, link));
    }

    [Fact]
    public void Exact_case_matches_without_OBJ_CASE_INSENSITIVE()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(@"\Device\Echo", out var file, attributes: ObjectAttributeFlags.None));
        ObTest.Close(file);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory, attributes: ObjectAttributeFlags.None));
        ObTest.Close(directory);
    }

    [Fact]
    public void Names_resolve_relative_to_a_RootDirectory_handle()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\", out var root));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var device));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\??", out var dosDevices));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile("Echo", out var echo, root: device));
            Assert.Equal(@"\Device\Echo", ObTest.ObjectName(echo));
            ObTest.Close(echo);

            var tag = KbTest.NewTag();
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile("KbTest" + tag, out var kbtest, root: device));
            Assert.Equal(@"\Device\KbTest" + tag, ObTest.ObjectName(kbtest));
            Assert.Equal(1, KbTest.Counters(tag).Creates);
            ObTest.Close(kbtest);

            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile("Echo", out echo, root: dosDevices));
            Assert.Equal(@"\Device\Echo", ObTest.ObjectName(echo));
            ObTest.Close(echo);

            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory("Device", out var again, root: root));
            Assert.Equal(@"\Device", ObTest.ObjectName(again));
            ObTest.Close(again);

            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink("Echo", out var link, root: dosDevices));
            Assert.Equal("SymbolicLink", ObTest.TypeName(link));
            ObTest.Close(link);

            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, ObTest.NtCreateFile("NoSuchDevice", out _, root: device));
            Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, ObTest.NtCreateFile(@"NoSuchDirectory\Echo", out _, root: root));
        }
        finally
        {
            ObTest.Close(root);
            ObTest.Close(device);
            ObTest.Close(dosDevices);
        }
    }

    [Fact]
    public void A_name_starting_with_a_backslash_relative_to_a_directory_is_STATUS_OBJECT_PATH_SYNTAX_BAD()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var device));
        try
        {
            Assert.Equal(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, ObTest.NtCreateFile(@"\Echo", out _, root: device));
            Assert.Equal(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, ObTest.OpenDirectory(@"\Device", out _, root: device));
        }
        finally
        {
            ObTest.Close(device);
        }
    }

    [Fact]
    public void An_empty_name_relative_to_a_directory_opens_the_directory_itself()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var device));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory("", out var same, root: device));
            Assert.Equal(@"\Device", ObTest.ObjectName(same));
            ObTest.Close(same);
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, ObTest.OpenLink("", out _, root: device));
        }
        finally
        {
            ObTest.Close(device);
        }
    }

    [Fact]
    public void A_bad_RootDirectory_handle_is_STATUS_INVALID_HANDLE()
    {
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.NtCreateFile("Echo", out _, root: 0x7FF0));
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.OpenDirectory("Device", out _, root: 0x7FF0));
    }

    [Fact]
    public void The_Win32_name_of_a_device_is_its_DosDevices_link()
    {
        Assert.Equal(@"\??\Echo", Kernel32.DosPathToNtPath(@"\\.\Echo"));
        var (handle, error) = ObTest.CreateFile(@"\\.\Echo");
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile failed with {error}");
        Assert.Equal(@"\Device\Echo", ObTest.ObjectName(handle));
        Kernel32.CloseHandle(handle);
    }

    [Fact]
    public void NtQuerySymbolicLinkObject_needs_SYMBOLIC_LINK_QUERY_and_a_link()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link, AccessMask.READ_CONTROL));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
        try
        {
            var buffer = stackalloc char[64];
            ushort length = 0xBEEF;
            uint returned = 0xDEADBEEF;
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtQuerySymbolicLinkObject(link, buffer, 128, &length, &returned));
            Assert.Equal(0xBEEF, length);
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtQuerySymbolicLinkObject(directory, buffer, 128, &length, &returned));
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtQuerySymbolicLinkObject(0x7FF0, buffer, 128, &length, &returned));
            Assert.Equal(0xBEEF, length);
        }
        finally
        {
            ObTest.Close(link);
            ObTest.Close(directory);
        }
    }
}
