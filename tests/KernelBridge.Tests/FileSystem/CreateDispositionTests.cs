using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// IRP_MJ_CREATE on RamFs with each creation disposition, against an existing and a missing file:
/// the status and the IOSB Information NTFS gives (ntifs.h, NtCreateFile's documentation), and what
/// the disposition did to the file's data.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class CreateDispositionTests
{
    /// <summary>disposition, existing?, status, Information, data kept?</summary>
    public static TheoryData<uint, bool, uint, ulong, bool> Cases() => new()
    {
        { FILE_SUPERSEDE, true, STATUS_SUCCESS, FILE_SUPERSEDED, false },
        { FILE_SUPERSEDE, false, STATUS_SUCCESS, FILE_CREATED, false },
        { FILE_OPEN, true, STATUS_SUCCESS, FILE_OPENED, true },
        { FILE_OPEN, false, STATUS_OBJECT_NAME_NOT_FOUND, 0, false },
        { FILE_CREATE, true, STATUS_OBJECT_NAME_COLLISION, 0, true },
        { FILE_CREATE, false, STATUS_SUCCESS, FILE_CREATED, false },
        { FILE_OPEN_IF, true, STATUS_SUCCESS, FILE_OPENED, true },
        { FILE_OPEN_IF, false, STATUS_SUCCESS, FILE_CREATED, false },
        { FILE_OVERWRITE, true, STATUS_SUCCESS, FILE_OVERWRITTEN, false },
        { FILE_OVERWRITE, false, STATUS_OBJECT_NAME_NOT_FOUND, 0, false },
        { FILE_OVERWRITE_IF, true, STATUS_SUCCESS, FILE_OVERWRITTEN, false },
        { FILE_OVERWRITE_IF, false, STATUS_SUCCESS, FILE_CREATED, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_disposition_gives_the_status_and_information_NTFS_gives(uint disposition, bool existing, uint expected, ulong information, bool dataKept)
    {
        var path = NewDirectory() + @"\file.txt";
        if (existing)
        {
            using var first = OpenFile(path, FILE_CREATE);
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(first, 0, Pattern(100, 1), out _)));
        }

        var status = Create(path, ReadWrite | SYNCHRONIZE, ShareAll, disposition, FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE, out var handle,
            out var iosbInformation);
        try
        {
            Assert.Equal(Hex(expected), Hex(status));
            if (status != STATUS_SUCCESS)
            {
                Assert.Equal((nint)0, handle);
                Assert.Equal(existing ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND, Probe(path));
                return;
            }
            Assert.Equal(information, iosbInformation);
            Assert.Equal(dataKept ? 100 : 0, EndOfFile(handle));
        }
        finally
        {
            if (handle != 0) Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public void Names_are_case_insensitive_and_keep_the_case_they_were_created_with()
    {
        var directory = NewDirectory();
        using (var created = OpenFile(directory + @"\MixedCase.TXT", FILE_CREATE)) { }

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory + @"\mixedcase.txt", ReadWrite | SYNCHRONIZE, ShareAll, FILE_OPEN,
            FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out var information)));
        using var opened = new OwnedHandle(handle);
        Assert.Equal(FILE_OPENED, information);
        Assert.Equal(Hex(STATUS_OBJECT_NAME_COLLISION), Hex(Create(directory + @"\MIXEDCASE.txt", ReadWrite | SYNCHRONIZE, ShareAll, FILE_CREATE,
            FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(opened, FileNameInformation, 512, out var name, out _)));
        var length = BitConverter.ToInt32(name, 0);
        Assert.EndsWith(@"\MixedCase.TXT", System.Text.Encoding.Unicode.GetString(name, 4, length));
    }

    public static TheoryData<string, uint> BadNames() => new()
    {
        { @"\a*b", STATUS_OBJECT_NAME_INVALID },
        { @"\a?b", STATUS_OBJECT_NAME_INVALID },
        { @"\a<b", STATUS_OBJECT_NAME_INVALID },
        { @"\a>b", STATUS_OBJECT_NAME_INVALID },
        { @"\a|b", STATUS_OBJECT_NAME_INVALID },
        { "\\a\"b", STATUS_OBJECT_NAME_INVALID },
        { @"\a:b", STATUS_OBJECT_NAME_INVALID },
        { @"\a\\b", STATUS_OBJECT_NAME_INVALID },
        { @"\" + new string('n', 256), STATUS_OBJECT_NAME_INVALID },
        { @"\missing\a.txt", STATUS_OBJECT_PATH_NOT_FOUND },
        { @"\missing\deeper\a.txt", STATUS_OBJECT_PATH_NOT_FOUND },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Bad_names_and_missing_parents_get_the_NTFS_status_and_create_nothing(string suffix, uint expected)
    {
        var directory = NewDirectory();
        var status = Create(directory + suffix, ReadWrite | SYNCHRONIZE, ShareAll, FILE_OPEN_IF, FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out _);
        if (handle != 0) Kernel32.CloseHandle(handle);
        Assert.Equal(Hex(expected), Hex(status));
    }

    [Fact]
    public void A_name_of_255_characters_is_fine()
    {
        var path = NewDirectory() + @"\" + new string('n', 255);
        using var file = OpenFile(path, FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(path)));
    }

    [Fact]
    public void A_file_below_a_file_is_a_missing_path()
    {
        var path = NewDirectory() + @"\plain";
        using (OpenFile(path, FILE_CREATE)) { }
        Assert.Equal(Hex(STATUS_OBJECT_PATH_NOT_FOUND), Hex(Create(path + @"\child", ReadWrite | SYNCHRONIZE, ShareAll, FILE_OPEN_IF,
            FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
    }
}
