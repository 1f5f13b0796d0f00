using System.Buffers.Binary;
using System.Text;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// NtQueryInformationFile (WRK io/iomgr/qsinfo.c, issue2-facts section 9): the class is checked
/// first (STATUS_INVALID_INFO_CLASS for classes past FileMaximumInformation or with no query
/// length, such as the set-only FileRenameInformation), then Length against the class's size
/// (STATUS_INFO_LENGTH_MISMATCH), then the handle with the class's required access
/// (IopQueryOperationAccess: FILE_READ_ATTRIBUTES for FileBasicInformation). Access, mode and
/// alignment the I/O manager answers itself, and position too on a synchronous file; everything
/// else goes to the driver (FileNameInformation: the name under the device, cut with
/// STATUS_BUFFER_OVERFLOW and the full FileNameLength).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class QueryInformationFileTests
{
    private const uint FileBasicInformation = 4;
    private const uint FileAccessInformation = 8;
    private const uint FileNameInformation = 9;
    private const uint FilePositionInformation = 14;
    private const uint FileModeInformation = 16;
    private const uint FileAlignmentInformation = 17;

    [Fact]
    public void FileNameInformation_returns_the_name_relative_to_the_device_and_its_length_in_bytes()
    {
        var tag = KbTest.NewTag() + @"\some\name";
        using var handle = Open(tag);
        var name = Encoding.Unicode.GetBytes(tag);
        var original = Pattern(256);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, buffer.Length, FileNameInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)(4 + name.Length));
        Assert.Equal(name.Length, BinaryPrimitives.ReadInt32LittleEndian(buffer));
        Assert.Equal(tag, Encoding.Unicode.GetString(buffer, 4, name.Length));
        AssertBytes(original.AsSpan(4 + name.Length), buffer.AsSpan(4 + name.Length), "(past the name)");
        Assert.Equal(1, KbTest.Counters(tag).QueryInformation);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(20)]
    public void FileNameInformation_into_a_short_buffer_is_STATUS_BUFFER_OVERFLOW_with_the_cut_name_and_the_full_length(int length)
    {
        var tag = KbTest.NewTag() + @"\some\name";
        using var handle = Open(tag);
        var name = Encoding.Unicode.GetBytes(tag);
        var original = Pattern(256);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_BUFFER_OVERFLOW), Hex(NtQueryFile(handle, buffer, length, FileNameInformation, ref iosb)));

        // A warning: the IOSB is written and Information bytes are copied back.
        AssertIosb(iosb, Win.STATUS_BUFFER_OVERFLOW, (ulong)length);
        Assert.Equal(name.Length, BinaryPrimitives.ReadInt32LittleEndian(buffer));
        AssertBytes(name.AsSpan(0, length - 4), buffer.AsSpan(4, length - 4), "(the cut name)");
        AssertBytes(original.AsSpan(length), buffer.AsSpan(length), "(past Length)");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(7)]
    public void FileNameInformation_shorter_than_8_bytes_is_STATUS_INFO_LENGTH_MISMATCH_before_the_driver(int length)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(NtQueryFile(handle, buffer, length, FileNameInformation, ref iosb)));

        AssertIosbUntouched(iosb);
        AssertBytes(original, buffer);
        Assert.Equal(0, KbTest.Counters(tag).QueryInformation);
    }

    [Theory]
    [InlineData(0u)]  // not a class
    [InlineData(10u)] // FileRenameInformation: set only
    [InlineData(13u)] // FileDispositionInformation: set only
    [InlineData(76u)] // FileMaximumInformation
    [InlineData(200u)]
    public void Class_that_cannot_be_queried_is_STATUS_INVALID_INFO_CLASS_before_the_length_and_the_driver(uint informationClass)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(64);
        var buffer = (byte[])original.Clone();

        foreach (var length in new[] { 0, 64 })
        {
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_INVALID_INFO_CLASS), Hex(NtQueryFile(handle, buffer, length, informationClass, ref iosb)));
            AssertIosbUntouched(iosb);
        }
        AssertBytes(original, buffer);
        Assert.Equal(0, KbTest.Counters(tag).QueryInformation);
    }

    [Fact]
    public void Class_and_length_are_checked_before_the_handle()
    {
        nint closed;
        using (var handle = Open(KbTest.NewTag())) closed = handle.Value;
        var buffer = Pattern(64);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INVALID_INFO_CLASS), Hex(NtQueryFile(closed, buffer, 64, 200, ref iosb)));
        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(NtQueryFile(closed, buffer, 4, FileNameInformation, ref iosb)));
        Assert.Equal(Hex(Win.STATUS_INVALID_HANDLE), Hex(NtQueryFile(closed, buffer, 64, FileNameInformation, ref iosb)));
        AssertIosbUntouched(iosb);
    }

    public static TheoryData<string, uint> AccessCases() => new()
    {
        // CreateFile asks for access | SYNCHRONIZE | FILE_READ_ATTRIBUTES (kernelbase CreateFileW).
        { "GENERIC_READ", Win.FILE_GENERIC_READ | Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES },
        { "GENERIC_WRITE", Win.FILE_GENERIC_WRITE | Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES },
        { "GENERIC_READ|GENERIC_WRITE", Win.FILE_GENERIC_READ | Win.FILE_GENERIC_WRITE | Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES },
        { "no access", Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES },
    };

    [Theory]
    [MemberData(nameof(AccessCases))]
    public void FileAccessInformation_returns_the_handles_granted_access(string accessName, uint granted)
    {
        var access = accessName switch
        {
            "GENERIC_READ" => Win.GENERIC_READ,
            "GENERIC_WRITE" => Win.GENERIC_WRITE,
            "GENERIC_READ|GENERIC_WRITE" => Win.GENERIC_READ | Win.GENERIC_WRITE,
            _ => 0u,
        };
        var tag = KbTest.NewTag();
        using var handle = Open(tag, access: access);
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, buffer.Length, FileAccessInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 4);
        Assert.Equal(Hex(granted), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
        AssertBytes(original.AsSpan(4), buffer.AsSpan(4));
        Assert.Equal(0, KbTest.Counters(tag).QueryInformation);
    }

    [Fact]
    public void FileAccessInformation_of_an_NtCreateFile_handle_is_exactly_what_was_asked()
    {
        using var handle = NtOpen(KbTest.NewTag(), Win.SYNCHRONIZE | Win.FILE_READ_DATA);
        var buffer = new byte[4];
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, 4, FileAccessInformation, ref iosb)));
        Assert.Equal(Hex(Win.SYNCHRONIZE | Win.FILE_READ_DATA), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
    }

    [Fact]
    public void FileAccessInformation_shorter_than_4_bytes_is_STATUS_INFO_LENGTH_MISMATCH()
    {
        using var handle = Open(KbTest.NewTag());
        var buffer = Pattern(8);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(NtQueryFile(handle, buffer, 3, FileAccessInformation, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(Pattern(8), buffer);
    }

    [Fact]
    public void FileModeInformation_says_FILE_SYNCHRONOUS_IO_NONALERT_for_a_synchronous_handle_and_nothing_for_an_overlapped_one()
    {
        var tag = KbTest.NewTag();
        using var synchronous = Open(tag);
        using var overlapped = Open(tag, flags: Win.FILE_FLAG_OVERLAPPED);
        var buffer = new byte[4];
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(synchronous, buffer, 4, FileModeInformation, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 4);
        Assert.Equal(Hex(Win.FILE_SYNCHRONOUS_IO_NONALERT), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));

        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(overlapped, buffer, 4, FileModeInformation, ref iosb)));
        Assert.Equal(Hex(0), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
    }

    [Fact]
    public void FileAlignmentInformation_is_the_devices_alignment_requirement_byte_aligned()
    {
        using var handle = Open(KbTest.NewTag());
        var buffer = Pattern(4);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, 4, FileAlignmentInformation, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 4);
        Assert.Equal(Hex(0), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer))); // FILE_BYTE_ALIGNMENT
    }

    [Fact]
    public void FilePositionInformation_of_a_new_synchronous_handle_is_zero_with_an_8_byte_iosb()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, buffer.Length, FilePositionInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 8);
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(buffer));
        AssertBytes(original.AsSpan(8), buffer.AsSpan(8));
        Assert.Equal(0, KbTest.Counters(tag).QueryInformation);

        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(NtQueryFile(handle, buffer, 7, FilePositionInformation, ref iosb)));
        AssertIosbUntouched(iosb);
    }

    [Fact]
    public void Current_byte_offset_is_moved_by_the_driver_not_by_the_io_manager_after_a_synchronous_write_or_read()
    {
        // NtReadFile/NtWriteFile read FileObject->CurrentByteOffset for a synchronous file (WRK
        // io/iomgr/read.c) and IopCompleteRequest never writes it: the driver does, as every file
        // system does ("If the file was opened for Synchronous IO, update the current file
        // position": FastFat/NTFS/UDFS/RDBSS read.c and write.c). The test driver never moves it,
        // so on Windows it stays 0.
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        Assert.True(Win32Write(handle, Encoding.ASCII.GetBytes("hello world"), out var written));
        Assert.Equal(11u, written);
        Assert.True(Win32Read(handle, new byte[4], 4, out var read));
        Assert.Equal(4u, read);

        var buffer = new byte[8];
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, 8, FilePositionInformation, ref iosb)));
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(buffer));
    }

    [Fact]
    public void FilePositionInformation_on_an_overlapped_handle_is_the_drivers_to_answer()
    {
        // WRK qsinfo.c answers FilePositionInformation in the I/O manager only inside
        // "if (fileObject->Flags & FO_SYNCHRONOUS_IO)"; an asynchronous file has no current
        // position kept for it, and the query goes down as IRP_MJ_QUERY_INFORMATION. The test
        // driver answers anything but FileNameInformation with STATUS_INVALID_PARAMETER.
        var tag = KbTest.NewTag();
        using var handle = Open(tag, flags: Win.FILE_FLAG_OVERLAPPED);
        var original = Pattern(8);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(NtQueryFile(handle, buffer, buffer.Length, FilePositionInformation, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(original, buffer);
        Assert.Equal(1, KbTest.Counters(tag).QueryInformation);
    }

    [Fact]
    public void FileBasicInformation_needs_FILE_READ_ATTRIBUTES_on_the_handle()
    {
        // IopQueryOperationAccess[FileBasicInformation] = FILE_READ_ATTRIBUTES, passed to
        // ObReferenceObjectByHandle (WRK qsinfo.c / iodata.c; same in current Windows):
        // without it the call is STATUS_ACCESS_DENIED and no IRP is sent.
        var tag = KbTest.NewTag();
        using (var noAttributes = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_READ_DATA))
        {
            var buffer = Pattern(40);
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(NtQueryFile(noAttributes, buffer, 40, FileBasicInformation, ref iosb)));
            AssertIosbUntouched(iosb);
            Assert.Equal(0, KbTest.Counters(tag).QueryInformation);
        }
        using (var withAttributes = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES))
        {
            var buffer = Pattern(40);
            var iosb = SentinelIosb();
            // Allowed: the test driver answers the class itself (STATUS_INVALID_PARAMETER: it only knows names).
            Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(NtQueryFile(withAttributes, buffer, 40, FileBasicInformation, ref iosb)));
            Assert.Equal(1, KbTest.Counters(tag).QueryInformation);
        }
    }

    [Fact]
    public void FileNameInformation_needs_no_access_at_all()
    {
        var tag = KbTest.NewTag();
        using var handle = NtOpen(tag, Win.SYNCHRONIZE);
        var buffer = new byte[128];
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, buffer.Length, FileNameInformation, ref iosb)));
        Assert.Equal(tag, Encoding.Unicode.GetString(buffer, 4, BinaryPrimitives.ReadInt32LittleEndian(buffer)));
    }
}
