using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// What RamFs answers of its files (standard, basic, name, internal, position) and what it lets
/// callers set (end of file, with STATUS_DISK_FULL past the volume's capacity), through the Nt
/// calls and through the Win32 ones built on them.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class InformationTests
{
    private const long Capacity = 64L << 20;

    [Fact]
    public void Standard_and_basic_information_describe_a_file_and_a_directory()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\facts.bin", FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, Pattern(5000, 1), out _)));

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(file, FileStandardInformation, 24, out var standard, out var information)));
        Assert.Equal(24ul, information);
        Assert.Equal(8192, BitConverter.ToInt64(standard, 0));
        Assert.Equal(5000, BitConverter.ToInt64(standard, 8));
        Assert.Equal(1u, BitConverter.ToUInt32(standard, 16));
        Assert.Equal(0, standard[20]);
        Assert.Equal(0, standard[21]);

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(file, FileBasicInformation, 40, out var basic, out information)));
        Assert.Equal(40ul, information);
        Assert.Equal(FILE_ATTRIBUTE_ARCHIVE, BitConverter.ToUInt32(basic, 32));
        var created = DateTime.FromFileTimeUtc(BitConverter.ToInt64(basic, 0));
        Assert.InRange(created, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        Assert.True(BitConverter.ToInt64(basic, 16) >= BitConverter.ToInt64(basic, 0), "written after it was created");

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE, ShareAll, FILE_OPEN,
            FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, out var raw, out _)));
        using var folder = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(folder, FileStandardInformation, 24, out standard, out _)));
        Assert.Equal(1, standard[21]);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(folder, FileBasicInformation, 40, out basic, out _)));
        Assert.Equal(FILE_ATTRIBUTE_DIRECTORY, BitConverter.ToUInt32(basic, 32));
    }

    [Fact]
    public void The_name_is_the_path_on_the_volume_and_a_short_buffer_gets_part_of_it_with_STATUS_BUFFER_OVERFLOW()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\Named.txt", FILE_CREATE);
        var expected = directory[NtRoot.Length..] + @"\Named.txt";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(file, FileNameInformation, 512, out var name, out var information)));
        Assert.Equal(expected.Length * 2, BitConverter.ToInt32(name, 0));
        Assert.Equal(expected, Encoding.Unicode.GetString(name, 4, expected.Length * 2));
        Assert.Equal((ulong)(4 + expected.Length * 2), information);

        Assert.Equal(Hex(STATUS_BUFFER_OVERFLOW), Hex(Query(file, FileNameInformation, 10, out name, out information)));
        Assert.Equal(10ul, information);
        Assert.Equal(expected.Length * 2, BitConverter.ToInt32(name, 0));
        Assert.Equal(expected[..3], Encoding.Unicode.GetString(name, 4, 6));
    }

    [Fact]
    public void Every_file_has_its_own_index_number_shared_by_its_opens()
    {
        var directory = NewDirectory();
        using var first = OpenFile(directory + @"\one", FILE_CREATE);
        using var again = OpenFile(directory + @"\one", FILE_OPEN);
        using var second = OpenFile(directory + @"\two", FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(first, FileInternalInformation, 8, out var a, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(again, FileInternalInformation, 8, out var b, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(second, FileInternalInformation, 8, out var c, out _)));
        Assert.Equal(BitConverter.ToInt64(a), BitConverter.ToInt64(b));
        Assert.NotEqual(BitConverter.ToInt64(a), BitConverter.ToInt64(c));
    }

    [Fact]
    public void FileEndOfFileInformation_cuts_and_extends_with_zeros()
    {
        using var file = OpenFile(NewDirectory() + @"\resize.bin", FILE_CREATE);
        var data = Pattern(1000, 3);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, data, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetEndOfFile(file, 10)));
        Assert.Equal(10, EndOfFile(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetEndOfFile(file, 20)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 0, 100, out var back)));
        Assert.Equal([.. data[..10], .. new byte[10]], back);
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(SetEndOfFile(file, -1)));
        Assert.Equal(20, EndOfFile(file));
    }

    [Fact]
    public void Past_the_volume_s_capacity_is_STATUS_DISK_FULL_and_nothing_changes()
    {
        using var file = OpenFile(NewDirectory() + @"\huge.bin", FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, [1, 2, 3], out _)));
        Assert.Equal(Hex(STATUS_DISK_FULL), Hex(SetEndOfFile(file, Capacity + 1)));
        Assert.Equal(Hex(STATUS_DISK_FULL), Hex(WriteAt(file, Capacity, [1], out var written)));
        Assert.Equal(Hex(STATUS_DISK_FULL), Hex(WriteAt(file, 1L << 40, [1], out _)));
        Assert.Equal(3, EndOfFile(file));
        Kernel32.SetLastError(IoHelpers.SentinelLastError);
        Assert.True(Kernel32.SetFilePointerEx(file, Capacity + 1, out _, Kernel32.FILE_BEGIN));
        Assert.False(Kernel32.SetEndOfFile(file));
        Assert.Equal(ERROR_DISK_FULL, Kernel32.GetLastError());
    }

    [Fact]
    public void Setting_the_end_of_file_needs_write_access()
    {
        var path = NewDirectory() + @"\readonly-handle.bin";
        using (OpenFile(path, FILE_CREATE)) { }
        using var reader = OpenFile(path, FILE_OPEN, GENERIC_READ | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(SetEndOfFile(reader, 100)));
        Assert.Equal(0, EndOfFile(reader));
    }

    [Fact]
    public void SetFilePointerEx_GetFileSizeEx_and_SetEndOfFile_work_on_the_file_s_position()
    {
        var handle = Kernel32.CreateFile(Win32(NewDirectory() + @"\pointer.bin"), ReadWrite, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        using var file = new OwnedHandle(handle);
        Assert.True(Kernel32.WriteFile(file, Pattern(100, 1), out _));
        Assert.True(Kernel32.GetFileSizeEx(file, out var size));
        Assert.Equal(100, size);
        Assert.True(Kernel32.SetFilePointerEx(file, -30, out var position, Kernel32.FILE_END));
        Assert.Equal(70, position);
        Assert.True(Kernel32.SetFilePointerEx(file, 5, out position, Kernel32.FILE_CURRENT));
        Assert.Equal(75, position);
        Assert.True(Kernel32.SetEndOfFile(file));
        Assert.True(Kernel32.GetFileSizeEx(file, out size));
        Assert.Equal(75, size);
        Assert.False(Kernel32.SetFilePointerEx(file, -1, out _, Kernel32.FILE_BEGIN));
        Assert.Equal(131u, Kernel32.GetLastError()); // ERROR_NEGATIVE_SEEK
        Assert.True(Kernel32.SetFilePointerEx(file, 0, out position, Kernel32.FILE_BEGIN));
        var buffer = new byte[200];
        Assert.True(Kernel32.ReadFile(file, buffer, out var read));
        Assert.Equal(75u, read);
    }

    [Fact]
    public void CreateFile_maps_each_disposition_and_sets_the_last_error_as_kernelbase_does()
    {
        var directory = NewDirectory();
        var path = Win32(directory + @"\win32.txt");
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(path, ReadWrite, ShareAll, 0, CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.Equal(ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(path, ReadWrite, ShareAll, 0, CreationDisposition.TRUNCATE_EXISTING, 0, 0));
        Assert.Equal(ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(Win32(directory + @"\none\x.txt"), ReadWrite, ShareAll, 0,
            CreationDisposition.CREATE_ALWAYS, 0, 0));
        Assert.Equal(ERROR_PATH_NOT_FOUND, Kernel32.GetLastError());
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(Win32(directory + @"\bad|name"), ReadWrite, ShareAll, 0,
            CreationDisposition.CREATE_ALWAYS, 0, 0));
        Assert.Equal(ERROR_INVALID_NAME, Kernel32.GetLastError());

        Expect(CreationDisposition.OPEN_ALWAYS, ERROR_SUCCESS, 0);
        Write(path, 10);
        Expect(CreationDisposition.OPEN_ALWAYS, ERROR_ALREADY_EXISTS, 10);
        Expect(CreationDisposition.CREATE_ALWAYS, ERROR_ALREADY_EXISTS, 0);
        Write(path, 10);
        Expect(CreationDisposition.TRUNCATE_EXISTING, ERROR_SUCCESS, 0);
        Write(path, 10);
        Expect(CreationDisposition.OPEN_EXISTING, ERROR_SUCCESS, 10);
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(path, ReadWrite, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0));
        Assert.Equal(ERROR_FILE_EXISTS, Kernel32.GetLastError());
        Assert.True(Kernel32.DeleteFile(path));
        Expect(CreationDisposition.CREATE_ALWAYS, ERROR_SUCCESS, 0);

        void Expect(CreationDisposition disposition, uint lastError, long size)
        {
            Kernel32.SetLastError(IoHelpers.SentinelLastError);
            var handle = Kernel32.CreateFile(path, ReadWrite, ShareAll, 0, disposition, 0, 0);
            Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
            Assert.Equal(lastError, Kernel32.GetLastError());
            Assert.True(Kernel32.GetFileSizeEx(handle, out var actual));
            Kernel32.CloseHandle(handle);
            Assert.Equal(size, actual);
        }
    }

    [Fact]
    public void A_directory_opens_through_CreateFile_only_with_backup_semantics()
    {
        var directory = Win32(NewDirectory());
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(directory, GENERIC_READ, ShareAll, 0, CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.Equal(ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        var handle = Kernel32.CreateFile(directory, GENERIC_READ, ShareAll, 0, CreationDisposition.OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        Kernel32.CloseHandle(handle);
        // A directory asked for as one, but a file there, is STATUS_NOT_A_DIRECTORY; the reverse STATUS_FILE_IS_A_DIRECTORY.
        var file = NewDirectory() + @"\plain";
        using (OpenFile(file, FILE_CREATE)) { }
        Assert.Equal(Hex(0xC0000103), Hex(Create(file, GENERIC_READ | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE, out _, out _)));
        Assert.Equal(Hex(STATUS_FILE_IS_A_DIRECTORY), Hex(Create(NtRoot + @"\", GENERIC_READ | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_NON_DIRECTORY_FILE,
            out _, out _)));
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(Create(file + "-dir", GENERIC_READ | SYNCHRONIZE, ShareAll, FILE_OVERWRITE_IF, FILE_DIRECTORY_FILE,
            out _, out _)));
    }

    [Fact]
    public void The_volume_says_what_file_system_it_is_and_how_much_room_is_left()
    {
        using var file = OpenFile(NewDirectory() + @"\space.bin", FILE_CREATE);
        var before = FreeClusters(file);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetEndOfFile(file, 1 << 20)));
        var after = FreeClusters(file);
        // Others share the volume, so only a bound: at least the megabyte's 256 clusters went.
        Assert.True(before - after >= 256, $"free clusters went from {before} to {after}");

        var buffer = new byte[64];
        var iosb = IoHelpers.SentinelIosb();
        fixed (byte* pointer = buffer)
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(Ntdll.NtQueryVolumeInformationFile(file, &iosb, pointer, 64, FsInformationClass.FileFsAttributeInformation)));
        Assert.Equal(2u | 4u, BitConverter.ToUInt32(buffer, 0)); // FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK
        Assert.Equal(255, BitConverter.ToInt32(buffer, 4));
        Assert.Equal("RamFs", Encoding.Unicode.GetString(buffer, 12, BitConverter.ToInt32(buffer, 8)));
        Assert.Equal((nuint)22, iosb.Information);
        fixed (byte* pointer = buffer)
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(Ntdll.NtQueryVolumeInformationFile(file, &iosb, pointer, 8, FsInformationClass.FileFsDeviceInformation)));
        Assert.Equal(8u, BitConverter.ToUInt32(buffer, 0)); // FILE_DEVICE_DISK_FILE_SYSTEM
    }

    private static long FreeClusters(nint handle)
    {
        var buffer = new byte[24];
        var iosb = IoHelpers.SentinelIosb();
        fixed (byte* pointer = buffer)
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(Ntdll.NtQueryVolumeInformationFile(handle, &iosb, pointer, 24, FsInformationClass.FileFsSizeInformation)));
        Assert.Equal(16384, BitConverter.ToInt64(buffer, 0));
        Assert.Equal(8u, BitConverter.ToUInt32(buffer, 16));
        Assert.Equal(512u, BitConverter.ToUInt32(buffer, 20));
        return BitConverter.ToInt64(buffer, 8);
    }

    private static void Write(string path, int length)
    {
        var handle = Kernel32.CreateFile(path, GENERIC_WRITE, ShareAll, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.True(Kernel32.WriteFile(handle, Pattern(length, 2), out _));
        Kernel32.CloseHandle(handle);
    }

    private static uint SetEndOfFile(nint handle, long length)
    {
        var iosb = IoHelpers.SentinelIosb();
        return Ntdll.NtSetInformationFile(handle, &iosb, &length, 8, (FileInformationClass)FileEndOfFileInformation).Code;
    }
}
