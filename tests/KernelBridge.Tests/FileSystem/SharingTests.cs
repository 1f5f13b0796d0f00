using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// Share modes on RamFs, by IoCheckShareAccess's rules: an open conflicts when it asks for read,
/// write or delete access that an earlier open does not share, or does not share an access an
/// earlier open holds; opens for attributes alone neither conflict nor block.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class SharingTests
{
    private const uint Read = FILE_READ_DATA | SYNCHRONIZE;
    private const uint Write = FILE_WRITE_DATA | SYNCHRONIZE;
    private const uint Append = FILE_APPEND_DATA | SYNCHRONIZE;
    private const uint Delete = DELETE | SYNCHRONIZE;
    private const uint Attributes = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    private const uint None = 0;

    /// <summary>first access, first share, second access, second share, the second open's status.</summary>
    public static TheoryData<uint, uint, uint, uint, uint> Matrix() => new()
    {
        { Read, FILE_SHARE_READ, Read, FILE_SHARE_READ, STATUS_SUCCESS },
        { Read, FILE_SHARE_READ, Read, None, STATUS_SHARING_VIOLATION },
        { Read, FILE_SHARE_READ, Write, FILE_SHARE_READ, STATUS_SHARING_VIOLATION },
        { Read, FILE_SHARE_READ, Append, ShareAll, STATUS_SHARING_VIOLATION },
        { Read, FILE_SHARE_READ | FILE_SHARE_WRITE, Write, FILE_SHARE_READ, STATUS_SUCCESS },
        { Read, FILE_SHARE_READ | FILE_SHARE_WRITE, Write, FILE_SHARE_WRITE, STATUS_SHARING_VIOLATION },
        { Write, FILE_SHARE_WRITE, Write, FILE_SHARE_WRITE, STATUS_SUCCESS },
        { Write, FILE_SHARE_WRITE, Read, FILE_SHARE_WRITE, STATUS_SHARING_VIOLATION },
        { Write, FILE_SHARE_READ, Read, FILE_SHARE_READ, STATUS_SHARING_VIOLATION },
        { Write, ShareAll, Read, FILE_SHARE_WRITE, STATUS_SUCCESS },
        { Read, FILE_SHARE_READ, Delete, ShareAll, STATUS_SHARING_VIOLATION },
        { Read, FILE_SHARE_READ | FILE_SHARE_DELETE, Delete, ShareAll, STATUS_SUCCESS },
        { Delete, FILE_SHARE_READ, Read, FILE_SHARE_READ, STATUS_SHARING_VIOLATION },
        { Delete, ShareAll, Read, FILE_SHARE_READ | FILE_SHARE_WRITE, STATUS_SHARING_VIOLATION },
        { Read, None, Attributes, None, STATUS_SUCCESS },
        { Attributes, None, ReadWrite | SYNCHRONIZE, None, STATUS_SUCCESS },
        { Read | FILE_WRITE_DATA, None, Read, ShareAll, STATUS_SHARING_VIOLATION },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void A_second_open_conflicts_by_the_IoCheckShareAccess_rules(uint firstAccess, uint firstShare, uint secondAccess, uint secondShare, uint expected)
    {
        var path = NewDirectory() + @"\shared.txt";
        using (OpenFile(path, FILE_CREATE)) { }
        using var first = OpenFile(path, FILE_OPEN, firstAccess, firstShare);

        var status = Create(path, secondAccess, secondShare, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out var second, out _);
        if (second != 0) Kernel32.CloseHandle(second);
        Assert.Equal(Hex(expected), Hex(status));
    }

    [Fact]
    public void A_refused_open_changes_nothing_and_the_open_succeeds_once_the_holder_closes()
    {
        var path = NewDirectory() + @"\exclusive.txt";
        var holder = OpenFile(path, FILE_CREATE, Read | FILE_WRITE_DATA, None);
        Assert.Equal(Hex(STATUS_SHARING_VIOLATION), Hex(Create(path, Read, ShareAll, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
        // The refused open did not count: a write by the holder and an attributes-only open still work.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(holder, 0, [1, 2, 3], out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(path)));
        holder.Dispose();
        using var later = OpenFile(path, FILE_OPEN, Read, None);
        Assert.Equal(3, EndOfFile(later));
    }

    [Fact]
    public void Overwriting_and_superseding_count_as_write_and_delete_in_the_check()
    {
        var path = NewDirectory() + @"\replace.txt";
        using var reader = OpenFile(path, FILE_CREATE, Read, FILE_SHARE_READ | FILE_SHARE_WRITE);
        using (var writer = OpenFile(path, FILE_OPEN, Write, ShareAll))
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(writer, 0, [9], out _)));
        // Superseding takes DELETE, which the reader does not share.
        Assert.Equal(Hex(STATUS_SHARING_VIOLATION), Hex(Create(path, Read, ShareAll, FILE_SUPERSEDE, FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
        Assert.Equal(1, EndOfFile(reader));
        // Overwriting takes write, which it shares.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(path, Read, ShareAll, FILE_OVERWRITE, FILE_SYNCHRONOUS_IO_NONALERT, out var overwriter, out _)));
        Kernel32.CloseHandle(overwriter);
        Assert.Equal(0, EndOfFile(reader));
    }

    [Fact]
    public void CreateFile_reports_ERROR_SHARING_VIOLATION()
    {
        var path = Win32(NewDirectory() + @"\win32.txt");
        var first = Kernel32.CreateFile(path, GENERIC_WRITE, FILE_SHARE_READ, 0, CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, first);
        using var firstHandle = new OwnedHandle(first);
        Kernel32.SetLastError(IoHelpers.SentinelLastError);
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.CreateFile(path, GENERIC_WRITE, ShareAll, 0, CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.Equal(ERROR_SHARING_VIOLATION, Kernel32.GetLastError());
        var reader = Kernel32.CreateFile(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, reader);
        Kernel32.CloseHandle(reader);
    }
}
