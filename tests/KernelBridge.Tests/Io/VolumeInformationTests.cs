using System.Buffers.Binary;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// NtQueryVolumeInformationFile and NtSetVolumeInformationFile (WRK io/iomgr/qsfs.c with the tables
/// of iodata.c; ReactOS io/iomgr/iofunc.c; Wine ntoskrnl.c test_object_info, run on Windows): the
/// class is checked first (IopQueryFsOperationLength / IopSetFsOperationLength: 0 means
/// STATUS_INVALID_INFO_CLASS), then Length against the class's structure
/// (STATUS_INFO_LENGTH_MISMATCH), then the handle with the class's access (IopQueryFsOperationAccess:
/// FILE_READ_DATA for FileFsControlInformation; IopSetFsOperationAccess: FILE_WRITE_DATA for every
/// set). FileFsDeviceInformation and FileFsDriverPathInformation the I/O manager answers itself;
/// the rest reaches the driver buffered as IRP_MJ_QUERY_VOLUME_INFORMATION /
/// IRP_MJ_SET_VOLUME_INFORMATION with Parameters.QueryVolume / SetVolume, and the I/O manager
/// waits for it on an overlapped file too (IRP_SYNCHRONOUS_API).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class VolumeInformationTests
{
    private const uint FileFsVolumeInformation = 1;
    private const uint FileFsLabelInformation = 2;
    private const uint FileFsDeviceInformation = 4;
    private const uint FileFsAttributeInformation = 5;
    private const uint FileFsControlInformation = 6;
    private const uint FileFsObjectIdInformation = 8;
    private const uint FileFsDriverPathInformation = 9;

    private const uint IRP_SYNCHRONOUS_API = 0x4;
    private const uint IRP_BUFFERED_IO = 0x10;
    private const uint IRP_DEALLOCATE_BUFFER = 0x20;
    private const uint IRP_INPUT_OPERATION = 0x40;
    private const uint FILE_DEVICE_UNKNOWN = 0x22;
    private const uint ERROR_BAD_LENGTH = 24;

    private static uint Query(nint handle, byte[]? buffer, int length, uint informationClass, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtQueryVolumeInformationFile(handle, iosbPointer, pointer, (uint)length, (FsInformationClass)informationClass));
        }
    }

    private static uint Set(nint handle, byte[] information, uint informationClass, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = information)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtSetVolumeInformationFile(handle, iosbPointer, pointer, (uint)information.Length, (FsInformationClass)informationClass));
        }
    }

    private static void SetVolumeAnswer(nint handle, ReturnRequest request)
    {
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_SET_VOLUME.Value, KbTest.Bytes(request), [], ref returned),
            $"SET_VOLUME failed: {Kernel32.GetLastError()}");
    }

    /// <summary>FILE_FS_DRIVER_PATH_INFORMATION asking about <paramref name="driver"/>, DriverInPath set to 0xCC so a write shows.</summary>
    private static byte[] DriverPathQuestion(string driver, int extra = 0)
    {
        var name = Encoding.Unicode.GetBytes(driver);
        var buffer = new byte[8 + name.Length + extra];
        buffer[0] = 0xCC;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4), name.Length);
        name.CopyTo(buffer, 8);
        return buffer;
    }

    [Fact]
    public void FileFsVolumeInformation_reaches_the_driver_as_IRP_MJ_QUERY_VOLUME_INFORMATION_with_its_length_and_class()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(64);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();
        var label = Encoding.Unicode.GetBytes(KbTestInterface.VolumeLabel);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Query(handle, buffer, buffer.Length, FileFsVolumeInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)(18 + label.Length));
        Assert.Equal(Hex(KbTestInterface.VolumeSerialNumber), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8))));
        Assert.Equal(label.Length, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(12)));
        AssertBytes(label, buffer.AsSpan(18, label.Length), "(the label)");
        AssertBytes(original.AsSpan(18 + label.Length), buffer.AsSpan(18 + label.Length), "(past Information)");
        var seen = KbTest.Counters(tag);
        Assert.Equal(1, seen.QueryVolume);
        Assert.Equal((int)FileFsVolumeInformation, seen.LastFsInformationClass);
        Assert.Equal(64, seen.LastFsLength);
        // Buffered, an input operation; a synchronous file's query needs no IRP_SYNCHRONOUS_API.
        Assert.Equal(Hex(IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION), Hex(seen.LastIrpFlags));
    }

    [Fact]
    public void A_volume_query_into_a_short_buffer_is_STATUS_BUFFER_OVERFLOW_with_the_cut_label_copied_back()
    {
        using var handle = Open(KbTest.NewTag());
        var buffer = Pattern(26);
        var iosb = SentinelIosb();
        var label = Encoding.Unicode.GetBytes(KbTestInterface.VolumeLabel);

        Assert.Equal(Hex(Win.STATUS_BUFFER_OVERFLOW), Hex(Query(handle, buffer, 24, FileFsVolumeInformation, ref iosb)));

        // A warning: the IOSB is written and Information bytes come back.
        AssertIosb(iosb, Win.STATUS_BUFFER_OVERFLOW, 24);
        Assert.Equal(label.Length, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(12)));
        AssertBytes(label.AsSpan(0, 6), buffer.AsSpan(18, 6), "(the cut label)");
        AssertBytes(Pattern(26).AsSpan(24), buffer.AsSpan(24), "(past Length)");
    }

    [Theory]
    [InlineData(0u)]      // not a class
    [InlineData(2u)]      // FileFsLabelInformation: set only
    [InlineData(10u)]     // past the WRK's FileFsMaximumInformation
    [InlineData(0xFFFFu)]
    public void A_class_that_cannot_be_queried_is_STATUS_INVALID_INFO_CLASS_before_the_driver(uint informationClass)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(128);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INVALID_INFO_CLASS), Hex(Query(handle, buffer, buffer.Length, informationClass, ref iosb)));

        AssertIosbUntouched(iosb);
        AssertBytes(original, buffer);
        Assert.Equal(0, KbTest.Counters(tag).QueryVolume);
    }

    [Theory]
    [InlineData(1u, 24)] // FILE_FS_VOLUME_INFORMATION
    [InlineData(3u, 24)] // FILE_FS_SIZE_INFORMATION
    [InlineData(4u, 8)]  // FILE_FS_DEVICE_INFORMATION
    [InlineData(5u, 16)] // FILE_FS_ATTRIBUTE_INFORMATION
    [InlineData(6u, 48)] // FILE_FS_CONTROL_INFORMATION
    [InlineData(7u, 32)] // FILE_FS_FULL_SIZE_INFORMATION
    [InlineData(8u, 64)] // FILE_FS_OBJECTID_INFORMATION
    [InlineData(9u, 12)] // FILE_FS_DRIVER_PATH_INFORMATION
    public void A_query_shorter_than_its_structure_is_STATUS_INFO_LENGTH_MISMATCH_before_the_handle(uint informationClass, int size)
    {
        nint closed;
        using (var handle = Open(KbTest.NewTag())) closed = handle.Value;
        var buffer = Pattern(size);
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(Query(closed, buffer, size - 1, informationClass, ref iosb)));
        Assert.Equal(Hex(Win.STATUS_INVALID_HANDLE), Hex(Query(closed, buffer, size, informationClass, ref iosb)));
        AssertIosbUntouched(iosb);
    }

    [Fact]
    public void FileFsControlInformation_needs_FILE_READ_DATA_and_the_other_queries_need_no_access()
    {
        var tag = KbTest.NewTag();
        var buffer = Pattern(64);
        using (var attributesOnly = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_READ_ATTRIBUTES))
        {
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(Query(attributesOnly, buffer, 48, FileFsControlInformation, ref iosb)));
            AssertIosbUntouched(iosb);
            Assert.Equal(0, KbTest.Counters(tag).QueryVolume);
            Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Query(attributesOnly, buffer, 64, FileFsVolumeInformation, ref iosb)));
        }
        using (var readData = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_READ_DATA))
        {
            var iosb = SentinelIosb();
            // Allowed: the test driver answers the class itself (it knows only the volume and attributes).
            Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(Query(readData, buffer, 48, FileFsControlInformation, ref iosb)));
        }
        Assert.Equal(2, KbTest.Counters(tag).QueryVolume);
    }

    [Theory]
    [InlineData("STATUS_SUCCESS")]
    [InlineData("STATUS_BUFFER_OVERFLOW")]
    [InlineData("0x8EADBEEF")]
    [InlineData("STATUS_VERIFY_REQUIRED")]
    [InlineData("STATUS_UNSUCCESSFUL")]
    public void A_volume_query_copies_Information_bytes_back_unless_the_status_is_an_error(string statusName)
    {
        var status = Win.Status(statusName);
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        SetVolumeAnswer(handle, Request(status, status));
        var original = Pattern(32);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(status), Hex(Query(handle, buffer, buffer.Length, FileFsVolumeInformation, ref iosb)));

        if (Win.NT_ERROR(status)) AssertIosbUntouched(iosb, "after an error");
        else AssertIosb(iosb, status, 3);
        // STATUS_VERIFY_REQUIRED, though only a warning, copies nothing (IopCompleteRequest).
        var copied = Win.NT_ERROR(status) || status == Win.STATUS_VERIFY_REQUIRED ? 0 : 3;
        AssertBytes(Filled(original, copied), buffer);
    }

    [Fact]
    public void On_an_overlapped_file_the_io_manager_waits_for_a_volume_query_the_driver_pends()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag, flags: Win.FILE_FLAG_OVERLAPPED);
        SetVolumeAnswer(handle, Request(Win.STATUS_PENDING, Win.STATUS_SUCCESS, pend: PendMode.CompleteLater, delayMs: 100));
        var original = Pattern(32);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Query(handle, buffer, buffer.Length, FileFsVolumeInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 3);
        AssertBytes(Filled(original, 3), buffer);
        Assert.Equal(IRP_SYNCHRONOUS_API, KbTest.Counters(tag).LastIrpFlags & IRP_SYNCHRONOUS_API);
    }

    [Fact]
    public void FileFsDeviceInformation_is_answered_by_the_io_manager_from_the_device_object()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Query(handle, buffer, buffer.Length, FileFsDeviceInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 8);
        Assert.Equal(Hex(FILE_DEVICE_UNKNOWN), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
        Assert.Equal(Hex(0), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4))));
        AssertBytes(original.AsSpan(8), buffer.AsSpan(8));
        Assert.Equal(0, KbTest.Counters(tag).QueryVolume);
    }

    [Fact]
    public void FileFsDriverPathInformation_says_whether_the_driver_has_a_device_in_the_files_stack()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        using var stacked = Open(tag, "Stack");

        bool InPath(nint file, string driver)
        {
            var question = DriverPathQuestion(driver);
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Query(file, question, question.Length, FileFsDriverPathInformation, ref iosb)));
            AssertIosb(iosb, Win.STATUS_SUCCESS, 12);
            // Only DriverInPath is written: the name the caller put there stays.
            AssertBytes(DriverPathQuestion(driver).AsSpan(1), question.AsSpan(1));
            return question[0] switch
            {
                1 => true,
                0 => false,
                _ => throw new InvalidOperationException($"DriverInPath is 0x{question[0]:X2}"),
            };
        }

        Assert.True(InPath(handle, @"\Driver\KbTest"));
        Assert.True(InPath(handle, @"\driver\kbtest"));
        Assert.False(InPath(handle, @"\Driver\Echo"));
        Assert.False(InPath(handle, @"\Driver\KbFilter"));
        Assert.True(InPath(stacked, @"\Driver\KbFilter"));
        Assert.True(InPath(stacked, @"\Driver\KbTest"));
        Assert.Equal(0, KbTest.Counters(tag).QueryVolume);
    }

    [Fact]
    public void FileFsDriverPathInformation_fails_for_a_name_longer_than_the_buffer_or_not_a_driver()
    {
        using var handle = Open(KbTest.NewTag());
        var iosb = SentinelIosb();

        var tooLong = DriverPathQuestion(@"\Driver\KbTest");
        BinaryPrimitives.WriteInt32LittleEndian(tooLong.AsSpan(4), tooLong.Length - 8 + 2);
        Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(Query(handle, tooLong, tooLong.Length, FileFsDriverPathInformation, ref iosb)));

        var missing = DriverPathQuestion(@"\Driver\NoSuchDriver");
        Assert.Equal(Hex(0xC0000034), Hex(Query(handle, missing, missing.Length, FileFsDriverPathInformation, ref iosb))); // STATUS_OBJECT_NAME_NOT_FOUND

        var device = DriverPathQuestion(@"\Device\Echo");
        Assert.Equal(Hex(Win.STATUS_OBJECT_TYPE_MISMATCH), Hex(Query(handle, device, device.Length, FileFsDriverPathInformation, ref iosb)));
        AssertIosbUntouched(iosb);
        Assert.Equal(0xCC, missing[0]);
    }

    [Fact]
    public void FileFsLabelInformation_reaches_the_driver_as_IRP_MJ_SET_VOLUME_INFORMATION_with_the_callers_bytes()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var label = Encoding.Unicode.GetBytes("NewLabel");
        var information = new byte[4 + label.Length];
        BinaryPrimitives.WriteInt32LittleEndian(information, label.Length);
        label.CopyTo(information, 4);
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Set(handle, information, FileFsLabelInformation, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
        var seen = KbTest.Counters(tag);
        Assert.Equal(1, seen.SetVolume);
        Assert.Equal((int)FileFsLabelInformation, seen.LastFsInformationClass);
        Assert.Equal(information.Length, seen.LastFsLength);
        // Buffered, not an input operation: nothing comes back.
        Assert.Equal(Hex(IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER), Hex(seen.LastIrpFlags));
        var sawn = new byte[64];
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_LAST_SET_VOLUME.Value, [], sawn, ref returned));
        AssertBytes(information, sawn.AsSpan(0, (int)returned), "(what the driver saw)");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]  // FileFsVolumeInformation: query only
    [InlineData(3u)]  // FileFsSizeInformation: query only
    [InlineData(4u)]  // FileFsDeviceInformation: query only
    [InlineData(9u)]  // FileFsDriverPathInformation: query only
    [InlineData(10u)]
    public void A_class_that_cannot_be_set_is_STATUS_INVALID_INFO_CLASS_before_the_driver(uint informationClass)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INVALID_INFO_CLASS), Hex(Set(handle, new byte[64], informationClass, ref iosb)));
        AssertIosbUntouched(iosb);
        Assert.Equal(0, KbTest.Counters(tag).SetVolume);
    }

    [Theory]
    [InlineData(2u, 8)]  // FILE_FS_LABEL_INFORMATION
    [InlineData(6u, 48)] // FILE_FS_CONTROL_INFORMATION
    [InlineData(8u, 64)] // FILE_FS_OBJECTID_INFORMATION
    public void A_set_shorter_than_its_structure_is_STATUS_INFO_LENGTH_MISMATCH(uint informationClass, int size)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INFO_LENGTH_MISMATCH), Hex(Set(handle, new byte[size - 1], informationClass, ref iosb)));
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Set(handle, new byte[size], informationClass, ref iosb)));
        Assert.Equal(1, KbTest.Counters(tag).SetVolume);
    }

    [Fact]
    public void Every_volume_set_needs_FILE_WRITE_DATA()
    {
        var tag = KbTest.NewTag();
        using var readOnly = Open(tag, access: Win.GENERIC_READ);
        var iosb = SentinelIosb();
        foreach (var (informationClass, size) in new[] { (FileFsLabelInformation, 8), (FileFsControlInformation, 48), (FileFsObjectIdInformation, 64) })
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(Set(readOnly, new byte[size], informationClass, ref iosb)));
        AssertIosbUntouched(iosb);
        Assert.Equal(0, KbTest.Counters(tag).SetVolume);

        using var writer = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_WRITE_DATA);
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(Set(writer, new byte[8], FileFsLabelInformation, ref iosb)));
    }

    [Fact]
    public void A_driver_without_the_volume_routines_answers_STATUS_INVALID_DEVICE_REQUEST()
    {
        var echo = Kernel32.CreateFile(EchoInterface.Win32Name, KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(echo != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile failed with {Kernel32.GetLastError()}");
        using var handle = new OwnedHandle(echo);
        var original = Pattern(64);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(Query(handle, buffer, buffer.Length, FileFsVolumeInformation, ref iosb)));
        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(Set(handle, new byte[8], FileFsLabelInformation, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(original, buffer);

        Kernel32.SetLastError(SentinelLastError);
        uint serial = 0;
        Assert.False(Kernel32.GetVolumeInformationByHandleW(handle, null, 0, &serial, null, null, null, 0));
        Assert.Equal(Win.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
    }

    [Fact]
    public void GetVolumeInformationByHandleW_reports_the_drivers_label_serial_and_file_system()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var label = stackalloc char[32];
        var fileSystem = stackalloc char[32];
        uint serial = 0, componentLength = 0, flags = 0;

        Assert.True(Kernel32.GetVolumeInformationByHandleW(handle, label, 32, &serial, &componentLength, &flags, fileSystem, 32),
            $"GetVolumeInformationByHandleW failed with {Kernel32.GetLastError()}");

        Assert.Equal(KbTestInterface.VolumeLabel, new string(label));
        Assert.Equal(Hex(KbTestInterface.VolumeSerialNumber), Hex(serial));
        Assert.Equal(KbTestInterface.FileSystemName, new string(fileSystem));
        Assert.Equal((uint)KbTestInterface.MaximumComponentNameLength, componentLength);
        Assert.Equal(Hex(KbTestInterface.FileSystemAttributes), Hex(flags));
        var seen = KbTest.Counters(tag);
        Assert.Equal(2, seen.QueryVolume);
    }

    [Fact]
    public void GetVolumeInformationByHandleW_asks_only_for_what_is_wanted_and_wants_room_for_the_NUL()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        uint serial = 0;
        Assert.True(Kernel32.GetVolumeInformationByHandleW(handle, null, 0, &serial, null, null, null, 0));
        Assert.Equal(1, KbTest.Counters(tag).QueryVolume);
        Assert.Equal((int)FileFsVolumeInformation, KbTest.Counters(tag).LastFsInformationClass);

        var label = stackalloc char[KbTestInterface.VolumeLabel.Length];
        Kernel32.SetLastError(SentinelLastError);
        Assert.False(Kernel32.GetVolumeInformationByHandleW(handle, label, (uint)KbTestInterface.VolumeLabel.Length, null, null, null, null, 0));
        Assert.Equal(ERROR_BAD_LENGTH, Kernel32.GetLastError());
    }
}
