using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// Deleting on RamFs as NTFS does: FILE_DELETE_ON_CLOSE and FileDispositionInformation(Ex) make a
/// file delete-pending, new opens of it get STATUS_DELETE_PENDING, and it goes at its last
/// cleanup; a non-empty directory, a handle without DELETE and the root are refused.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class DeleteTests
{
    [Fact]
    public void FILE_DELETE_ON_CLOSE_deletes_the_file_when_its_last_handle_closes()
    {
        var path = NewDirectory() + @"\temporary.txt";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(path, ReadWrite | DELETE | SYNCHRONIZE, ShareAll, FILE_CREATE,
            FILE_SYNCHRONOUS_IO_NONALERT | FILE_DELETE_ON_CLOSE, out var raw, out _)));
        var deleting = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(deleting, 0, [1, 2], out _)));
        // Until its cleanup the file is not delete-pending: another open works, and keeps it alive.
        var other = OpenFile(path, FILE_OPEN);
        deleting.Dispose();
        Assert.Equal(Hex(STATUS_DELETE_PENDING), Hex(Probe(path)));
        Assert.Equal(2, EndOfFile(other));
        other.Dispose();
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(path)));
    }

    [Fact]
    public void FILE_DELETE_ON_CLOSE_without_DELETE_access_is_an_invalid_parameter()
    {
        var path = NewDirectory() + @"\nodelete.txt";
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(Create(path, ReadWrite | SYNCHRONIZE, ShareAll, FILE_CREATE,
            FILE_SYNCHRONOUS_IO_NONALERT | FILE_DELETE_ON_CLOSE, out _, out _)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(path)));
    }

    [Fact]
    public void FileDispositionInformation_marks_the_file_then_opens_get_STATUS_DELETE_PENDING_and_it_goes_at_the_close()
    {
        var path = NewDirectory() + @"\marked.txt";
        var handle = OpenFile(path, FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(handle, true)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(handle, FileStandardInformation, 24, out var standard, out _)));
        Assert.Equal(1, standard[20]);
        Assert.Equal(Hex(STATUS_DELETE_PENDING), Hex(Probe(path)));
        Assert.Equal(Hex(STATUS_DELETE_PENDING), Hex(Create(path, ReadWrite | SYNCHRONIZE, ShareAll, FILE_OVERWRITE_IF, FILE_SYNCHRONOUS_IO_NONALERT,
            out _, out _)));
        handle.Dispose();
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(path)));
        // The name is free again.
        using var again = OpenFile(path, FILE_CREATE);
    }

    [Fact]
    public void A_disposition_set_back_to_false_keeps_the_file()
    {
        var path = NewDirectory() + @"\kept.txt";
        using (var handle = OpenFile(path, FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE))
        {
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(handle, true)));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(handle, false)));
        }
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(path)));
    }

    [Fact]
    public void A_handle_without_DELETE_access_cannot_set_the_disposition()
    {
        var path = NewDirectory() + @"\guarded.txt";
        using var handle = OpenFile(path, FILE_CREATE, ReadWrite | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(SetDisposition(handle, true)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(path)));
    }

    [Fact]
    public void A_directory_that_is_not_empty_cannot_be_deleted_and_an_empty_one_can()
    {
        var directory = NewDirectory();
        using (OpenFile(directory + @"\child.txt", FILE_CREATE)) { }
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory, DELETE | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
            out var raw, out _)));
        using (var handle = new OwnedHandle(raw))
        {
            Assert.Equal(Hex(STATUS_DIRECTORY_NOT_EMPTY), Hex(SetDisposition(handle, true)));
            using (var child = OpenFile(directory + @"\child.txt", FILE_OPEN, DELETE | SYNCHRONIZE))
                Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(child, true)));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(handle, true)));
        }
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(directory)));
    }

    [Fact]
    public void A_new_file_in_a_directory_being_deleted_is_refused()
    {
        var directory = NewDirectory();
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory, DELETE | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
            out var raw, out _)));
        using var handle = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(SetDisposition(handle, true)));
        Assert.Equal(Hex(STATUS_DELETE_PENDING), Hex(Create(directory + @"\late.txt", ReadWrite | SYNCHRONIZE, ShareAll, FILE_CREATE,
            FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
    }

    [Fact]
    public void The_root_cannot_be_deleted()
    {
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(NtRoot + @"\", DELETE | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
            out var raw, out _)));
        using var root = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_CANNOT_DELETE), Hex(SetDisposition(root, true)));
    }

    [Fact]
    public void FileDispositionInformationEx_with_POSIX_semantics_frees_the_name_at_once_while_the_handle_keeps_the_data()
    {
        var path = NewDirectory() + @"\posix.txt";
        using var handle = OpenFile(path, FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(handle, 0, [5, 6, 7], out _)));
        uint flags = 0x1 | 0x2; // FILE_DISPOSITION_DELETE | FILE_DISPOSITION_POSIX_SEMANTICS
        var iosb = IoHelpers.SentinelIosb();
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Ntdll.NtSetInformationFile(handle, &iosb, &flags, 4, (FileInformationClass)FileDispositionInformationEx)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(path)));
        using var replacement = OpenFile(path, FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(handle, 0, 3, out var data)));
        Assert.Equal(new byte[] { 5, 6, 7 }, data);
    }

    [Fact]
    public void DeleteFile_RemoveDirectory_and_SetFileInformationByHandle_give_the_Win32_errors()
    {
        var directory = NewDirectory();
        var file = Win32(directory + @"\a.txt");
        var handle = Kernel32.CreateFile(file, GENERIC_WRITE, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        Kernel32.CloseHandle(handle);

        Assert.False(Kernel32.RemoveDirectory(Win32(directory)));
        Assert.Equal(ERROR_DIR_NOT_EMPTY, Kernel32.GetLastError());
        Assert.False(Kernel32.DeleteFile(Win32(directory)));
        Assert.Equal(ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        Assert.True(Kernel32.DeleteFile(file));
        Assert.False(Kernel32.DeleteFile(file));
        Assert.Equal(ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());

        Assert.True(Kernel32.CreateDirectory(Win32(directory + @"\sub"), 0));
        Assert.False(Kernel32.CreateDirectory(Win32(directory + @"\sub"), 0));
        Assert.Equal(ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
        Assert.False(Kernel32.CreateDirectory(Win32(directory + @"\none\sub"), 0));
        Assert.Equal(ERROR_PATH_NOT_FOUND, Kernel32.GetLastError());
        Assert.True(Kernel32.RemoveDirectory(Win32(directory + @"\sub")));

        var marked = Kernel32.CreateFile(file, GENERIC_WRITE | DELETE, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, marked);
        byte delete = 1;
        Assert.True(Kernel32.SetFileInformationByHandle(marked, FileInfoByHandleClass.FileDispositionInfo, &delete, 1));
        Kernel32.CloseHandle(marked);
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(directory + @"\a.txt")));
        Assert.True(Kernel32.RemoveDirectory(Win32(directory)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(directory)));
    }

    [Fact]
    public void CreateFile_with_FILE_FLAG_DELETE_ON_CLOSE_deletes_at_the_close()
    {
        var path = NewDirectory() + @"\scratch.tmp";
        var handle = Kernel32.CreateFile(Win32(path), GENERIC_WRITE, ShareAll, 0, CreationDisposition.CREATE_NEW, FILE_FLAG_DELETE_ON_CLOSE, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(path)));
        Kernel32.CloseHandle(handle);
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(path)));
    }

    private static uint SetDisposition(nint handle, bool delete)
    {
        var value = delete ? (byte)1 : (byte)0;
        var iosb = IoHelpers.SentinelIosb();
        return Ntdll.NtSetInformationFile(handle, &iosb, &value, 1, (FileInformationClass)FileDispositionInformation).Code;
    }
}
