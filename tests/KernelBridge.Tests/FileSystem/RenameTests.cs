using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// FileRenameInformation on RamFs, with NTFS's answers: a bare name renames in place, a full name
/// moves within the volume (another device is STATUS_NOT_SAME_DEVICE), a taken name is
/// STATUS_OBJECT_NAME_COLLISION unless replacing, and replacing an open file or a directory is
/// STATUS_ACCESS_DENIED. Open handles follow the file.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class RenameTests
{
    private const uint STATUS_NOT_SAME_DEVICE = 0xC00000D4;

    [Fact]
    public void A_bare_name_renames_in_place_and_open_handles_follow_the_file()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\old.txt", FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, [1, 2, 3], out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Rename(file, "new.txt", replace: false)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(directory + @"\old.txt")));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(directory + @"\new.txt")));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(file, FileNameInformation, 512, out var name, out _)));
        Assert.EndsWith(@"\new.txt", Encoding.Unicode.GetString(name, 4, BitConverter.ToInt32(name, 0)));
        Assert.Equal(3, EndOfFile(file));
    }

    [Fact]
    public void A_full_name_moves_the_file_to_another_directory_of_the_volume()
    {
        var from = NewDirectory();
        var to = NewDirectory();
        using var file = OpenFile(from + @"\moving.bin", FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Rename(file, to + @"\moved.bin", replace: false)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(from + @"\moving.bin")));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(to + @"\moved.bin")));
        Assert.Equal(Hex(STATUS_OBJECT_PATH_NOT_FOUND), Hex(Rename(file, to + @"\missing\x.bin", replace: false)));
        Assert.Equal(Hex(STATUS_NOT_SAME_DEVICE), Hex(Rename(file, @"\??\Echo\elsewhere", replace: false)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_INVALID), Hex(Rename(file, "bad*name", replace: false)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(to + @"\moved.bin")));
    }

    [Fact]
    public void A_taken_name_collides_unless_replacing_and_an_open_target_or_a_directory_cannot_be_replaced()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\a", FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        using (OpenFile(directory + @"\b", FILE_CREATE)) { }
        Assert.Equal(Hex(STATUS_OBJECT_NAME_COLLISION), Hex(Rename(file, "b", replace: false)));
        using (OpenFile(directory + @"\b", FILE_OPEN))
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(Rename(file, "B", replace: true)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory + @"\sub", FILE_LIST_DIRECTORY | SYNCHRONIZE, ShareAll, FILE_CREATE,
            FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, out var sub, out _)));
        Kernel32.CloseHandle(sub);
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(Rename(file, "sub", replace: true)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Rename(file, "b", replace: true)));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(Probe(directory + @"\a")));
        // A change of case alone is a rename too.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Rename(file, "B", replace: false)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(file, FileNameInformation, 512, out var name, out _)));
        Assert.EndsWith(@"\B", Encoding.Unicode.GetString(name, 4, BitConverter.ToInt32(name, 0)));
    }

    [Fact]
    public void A_directory_with_an_open_file_below_it_cannot_move_nor_go_below_itself()
    {
        var directory = NewDirectory();
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory, DELETE | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
            out var raw, out _)));
        using var folder = new OwnedHandle(raw);
        using (var open = OpenFile(directory + @"\busy.txt", FILE_CREATE))
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(Rename(folder, directory + "-renamed", replace: false)));
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(Rename(folder, directory + @"\deeper", replace: false)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Rename(folder, directory + "-renamed", replace: false)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(directory + @"-renamed\busy.txt")));
    }

    [Fact]
    public void A_structure_shorter_than_FILE_RENAME_INFORMATION_or_a_name_past_its_end_is_refused()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\short.txt", FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        var information = new byte[22];
        BitConverter.TryWriteBytes(information.AsSpan(16), 2);
        information[20] = (byte)'x';
        var iosb = IoHelpers.SentinelIosb();
        fixed (byte* pointer = information)
            Assert.Equal(Hex(STATUS_INFO_LENGTH_MISMATCH), Hex(Ntdll.NtSetInformationFile(file, &iosb, pointer, 22, (FileInformationClass)10).Code));
        information = new byte[24];
        BitConverter.TryWriteBytes(information.AsSpan(16), 100);
        fixed (byte* pointer = information)
            Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(Ntdll.NtSetInformationFile(file, &iosb, pointer, 24, (FileInformationClass)10).Code));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(directory + @"\short.txt")));
    }

    [Fact]
    public void Renaming_needs_DELETE_access()
    {
        var directory = NewDirectory();
        using var file = OpenFile(directory + @"\locked.txt", FILE_CREATE, ReadWrite | SYNCHRONIZE);
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(Rename(file, "other.txt", replace: false)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(directory + @"\locked.txt")));
    }

    [Fact]
    public void MoveFile_and_MoveFileEx_give_the_Win32_errors()
    {
        var directory = NewDirectory();
        var a = Win32(directory + @"\a.txt");
        var b = Win32(directory + @"\b.txt");
        foreach (var path in new[] { a, b })
        {
            var handle = Kernel32.CreateFile(path, GENERIC_WRITE, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0);
            Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
            Kernel32.CloseHandle(handle);
        }
        Assert.False(Kernel32.MoveFile(a, b));
        Assert.Equal(ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
        Assert.True(Kernel32.MoveFileEx(a, b, Kernel32.MOVEFILE_REPLACE_EXISTING));
        Assert.False(Kernel32.MoveFile(a, b));
        Assert.Equal(ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Assert.False(Kernel32.MoveFile(b, @"\\.\Echo\x"));
        Assert.Equal(17u, Kernel32.GetLastError()); // ERROR_NOT_SAME_DEVICE
        Assert.True(Kernel32.MoveFile(b, Win32(directory + @"\c.txt")));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(directory + @"\c.txt")));
    }

    /// <summary>NtSetInformationFile(FileRenameInformation) with the x64 FILE_RENAME_INFORMATION laid out by hand.</summary>
    private static uint Rename(nint handle, string name, bool replace)
    {
        // sizeof(FILE_RENAME_INFORMATION) is 24: a shorter buffer is STATUS_INFO_LENGTH_MISMATCH even for a one-character name.
        var information = new byte[Math.Max(24, 20 + name.Length * 2)];
        information[0] = replace ? (byte)1 : (byte)0;
        BitConverter.TryWriteBytes(information.AsSpan(16), name.Length * 2);
        Encoding.Unicode.GetBytes(name).CopyTo(information, 20);
        var iosb = IoHelpers.SentinelIosb();
        fixed (byte* pointer = information)
            return Ntdll.NtSetInformationFile(handle, &iosb, pointer, (uint)information.Length, (FileInformationClass)10).Code;
    }
}
