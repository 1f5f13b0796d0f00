using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// NtQueryObject: names, types, basic information, with Windows' sizes and statuses (Wine om.c
/// test_query_object and ntoskrnl.c test_object_info, run on Windows; WRK ob/obquery.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class QueryObjectTests(KernelFixture fixture)
{
    private static int FullNameSize(string name) => ObTest.UnicodeStringSize + name.Length * 2 + 2;

    [Fact]
    public void The_name_of_a_file_object_is_the_device_name_followed_by_the_file_name()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var expected = @"\Device\KbTest" + tag;
            var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512);
            Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
            Assert.Equal((uint)FullNameSize(expected), result.ReturnLength);
            var name = result.StringAt(0);
            Assert.Equal(expected, name.Value);
            Assert.Equal(expected.Length * 2, name.Length);
            Assert.Equal(expected.Length * 2 + 2, name.MaximumLength);
            // The string follows the structure, in the caller's buffer, NUL-terminated.
            Assert.Equal(ObTest.UnicodeStringSize, name.Offset);
            Assert.True(name.Terminated);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public void A_file_opened_by_the_device_name_alone_is_named_after_the_device()
    {
        var (handle, error) = ObTest.CreateFile(EchoInterface.Win32Name);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile failed with {error}");
        try
        {
            Assert.Equal(@"\Device\Echo", ObTest.ObjectName(handle));
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    public void A_file_name_query_smaller_than_OBJECT_NAME_INFORMATION_is_STATUS_INFO_LENGTH_MISMATCH_with_the_full_size(int length)
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, length);
            Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, result.Status);
            Assert.Equal((uint)FullNameSize(@"\Device\KbTest" + tag), result.ReturnLength);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public void A_file_name_query_with_just_the_structure_is_STATUS_BUFFER_OVERFLOW_with_the_full_size()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, ObTest.UnicodeStringSize);
            Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, result.Status);
            Assert.Equal((uint)FullNameSize(@"\Device\KbTest" + tag), result.ReturnLength);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    /// <summary>Wine ntoskrnl.c test_object_info: size - 2 gives "\Device\WineTestDriver\subfil" and STATUS_BUFFER_OVERFLOW.</summary>
    [Fact]
    public void A_file_name_query_two_bytes_short_is_STATUS_BUFFER_OVERFLOW_with_the_name_cut_by_one_character()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var expected = @"\Device\KbTest" + tag;
            var full = FullNameSize(expected);
            var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, full - 2);
            Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, result.Status);
            Assert.Equal((uint)full, result.ReturnLength);
            Assert.Equal(expected[..^1], result.StringAt(0).Value);

            // A buffer that holds the device's name but not all of the driver's part gives a prefix of the name.
            var device = FullNameSize(@"\Device\KbTest");
            var partial = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, device + 4);
            Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, partial.Status);
            Assert.Equal((uint)full, partial.ReturnLength);
            Assert.Equal(expected[..(@"\Device\KbTest".Length + 2)], partial.StringAt(0).Value);

            // One that does not even hold the device's name is left as it was (IopQueryNameInternal).
            var tooSmall = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, ObTest.UnicodeStringSize + 12);
            Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, tooSmall.Status);
            Assert.Equal((uint)full, tooSmall.ReturnLength);
            Assert.All(tooSmall.Buffer, b => Assert.Equal(0xCC, b));
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public void The_name_of_a_directory_is_its_full_path_and_too_small_a_buffer_is_STATUS_INFO_LENGTH_MISMATCH()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
        try
        {
            var full = FullNameSize(@"\Device");
            var result = ObTest.QueryObject(directory, ObjectInformationClass.ObjectNameInformation, 256);
            Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
            Assert.Equal((uint)full, result.ReturnLength);
            Assert.Equal(@"\Device", result.StringAt(0).Value);

            foreach (var length in new[] { 0, ObTest.UnicodeStringSize, full - 2, full - 1 })
            {
                var small = ObTest.QueryObject(directory, ObjectInformationClass.ObjectNameInformation, length);
                Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, small.Status);
                Assert.Equal((uint)full, small.ReturnLength);
            }
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void The_name_of_a_symbolic_link_is_its_own_path_not_its_target()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            Assert.Equal(@"\??\Echo", ObTest.ObjectName(link));
        }
        finally
        {
            ObTest.Close(link);
        }
    }

    [Fact]
    public void An_unnamed_object_has_an_empty_name_and_a_NULL_buffer()
    {
        var result = ObTest.QueryObject(PseudoHandles.CurrentProcess, ObjectInformationClass.ObjectNameInformation, 256);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal((uint)ObTest.UnicodeStringSize, result.ReturnLength);
        var name = result.StringAt(0);
        Assert.Equal(0, name.Length);
        Assert.Equal(0ul, name.BufferAddress);
    }

    [Fact]
    public void ObjectTypeInformation_names_File_Directory_SymbolicLink_and_Process()
    {
        var tag = KbTest.NewTag();
        var file = KbTest.Open(tag);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            Assert.Equal("File", ObTest.TypeName(file));
            Assert.Equal("Directory", ObTest.TypeName(directory));
            Assert.Equal("SymbolicLink", ObTest.TypeName(link));
            Assert.Equal("Process", ObTest.TypeName(PseudoHandles.CurrentProcess));
        }
        finally
        {
            Kernel32.CloseHandle(file);
            ObTest.Close(directory);
            ObTest.Close(link);
        }
    }

    [Fact]
    public void ObjectTypeInformation_puts_the_type_name_after_the_structure()
    {
        var tag = KbTest.NewTag();
        var file = KbTest.Open(tag);
        try
        {
            var result = ObTest.QueryObject(file, ObjectInformationClass.ObjectTypeInformation, 512);
            Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
            var name = result.StringAt(0);
            Assert.Equal("File", name.Value);
            Assert.Equal(ObTest.TypeInformationSize, name.Offset);
            Assert.True(name.Terminated);
            Assert.True(result.ReturnLength >= ObTest.TypeInformationSize + "File".Length * 2 + 2, $"ReturnLength {result.ReturnLength}");
            // ValidAccessMask of File is FILE_ALL_ACCESS.
            Assert.Equal(AccessMask.FILE_ALL_ACCESS, MemoryMarshal.Read<uint>(result.Buffer.AsSpan(84)));
        }
        finally
        {
            Kernel32.CloseHandle(file);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(104)]
    public void ObjectTypeInformation_with_too_small_a_buffer_is_STATUS_INFO_LENGTH_MISMATCH(int length)
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
        try
        {
            var full = ObTest.QueryObject(directory, ObjectInformationClass.ObjectTypeInformation, 512);
            var result = ObTest.QueryObject(directory, ObjectInformationClass.ObjectTypeInformation, length);
            Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, result.Status);
            Assert.True(result.ReturnLength >= ObTest.TypeInformationSize + "Directory".Length * 2 + 2, $"ReturnLength {result.ReturnLength}");
            Assert.Equal(full.ReturnLength, result.ReturnLength);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(48)]
    [InlineData(55)]
    [InlineData(57)]
    [InlineData(64)]
    public void ObjectBasicInformation_wants_exactly_56_bytes(int length)
    {
        var tag = KbTest.NewTag();
        var file = KbTest.Open(tag);
        try
        {
            Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, ObTest.QueryObject(file, ObjectInformationClass.ObjectBasicInformation, length).Status);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.QueryObject(file, ObjectInformationClass.ObjectBasicInformation, 56).Status);
        }
        finally
        {
            Kernel32.CloseHandle(file);
        }
    }

    [Fact]
    public void ObjectBasicInformation_reports_the_granted_access_and_the_handle_count()
    {
        var tag = KbTest.NewTag();
        var file = KbTest.Open(tag);
        try
        {
            // CreateFile(GENERIC_READ | GENERIC_WRITE) grants FILE_GENERIC_READ | FILE_GENERIC_WRITE = 0x12019F.
            var (granted, count) = ObTest.Basic(file);
            Assert.Equal(0x12019Fu, granted);
            Assert.Equal(AccessMask.FILE_GENERIC_READ | AccessMask.FILE_GENERIC_WRITE, granted);
            Assert.Equal(1, count);

            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(file, out var duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            Assert.Equal(2, ObTest.Basic(file).HandleCount);
            Assert.Equal(2, ObTest.Basic(duplicate).HandleCount);
            Assert.Equal(granted, ObTest.Basic(duplicate).GrantedAccess);

            ObTest.Close(duplicate);
            Assert.Equal(1, ObTest.Basic(file).HandleCount);
        }
        finally
        {
            Kernel32.CloseHandle(file);
        }
    }

    [Fact]
    public void ObjectBasicInformation_counts_handles_of_every_process()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var mine));
        try
        {
            var before = ObTest.Basic(mine).HandleCount;
            using var other = ObTest.NewProcess(fixture);
            nint theirs;
            using (GateClient.Use(other)) Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out theirs));
            Assert.Equal(before + 1, ObTest.Basic(mine).HandleCount);
            using (GateClient.Use(other)) ObTest.Close(theirs);
            Assert.Equal(before, ObTest.Basic(mine).HandleCount);
        }
        finally
        {
            ObTest.Close(mine);
        }
    }

    [Fact]
    public void A_directory_opened_for_DIRECTORY_QUERY_is_granted_exactly_that()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory, AccessMask.DIRECTORY_QUERY));
        try
        {
            Assert.Equal(AccessMask.DIRECTORY_QUERY, ObTest.Basic(directory).GrantedAccess);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void NtQueryObject_on_an_invalid_handle_is_STATUS_INVALID_HANDLE()
    {
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.QueryObject(0, ObjectInformationClass.ObjectBasicInformation, 56).Status);
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.QueryObject(0x7FF8, ObjectInformationClass.ObjectNameInformation, 256).Status);
    }

    [Fact]
    public void The_current_process_pseudo_handle_grants_PROCESS_ALL_ACCESS()
    {
        Assert.Equal(AccessMask.PROCESS_ALL_ACCESS, ObTest.Basic(PseudoHandles.CurrentProcess).GrantedAccess);
    }
}
