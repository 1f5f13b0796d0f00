using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// Reads and writes on RamFs files: at explicit offsets, at a synchronous file's position (none
/// given, or FILE_USE_FILE_POINTER_POSITION), appending with FILE_WRITE_TO_END_OF_FILE, and the
/// end of file (STATUS_END_OF_FILE; ReadFile's TRUE with 0 bytes on a synchronous handle).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class ReadWriteTests
{
    private const long FILE_WRITE_TO_END_OF_FILE = -1;
    private const long FILE_USE_FILE_POINTER_POSITION = -2;

    [Fact]
    public void Data_written_at_offsets_reads_back_and_a_gap_reads_as_zeros()
    {
        using var file = OpenFile(NewDirectory() + @"\data.bin", FILE_CREATE);
        var first = Pattern(300, 3);
        var second = Pattern(50, 9);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, first, out var written)));
        Assert.Equal(300ul, written);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 1000, second, out written)));
        Assert.Equal(50ul, written);
        Assert.Equal(1050, EndOfFile(file));

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 0, 300, out var back)));
        Assert.Equal(first, back);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 300, 700, out back)));
        Assert.Equal(new byte[700], back);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 1000, 4096, out back)));
        Assert.Equal(second, back);
        // Overwriting in the middle leaves the rest.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 10, [0xEE, 0xEF], out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 8, 6, out back)));
        Assert.Equal(new byte[] { first[8], first[9], 0xEE, 0xEF, first[12], first[13] }, back);
        Assert.Equal(1050, EndOfFile(file));
    }

    [Fact]
    public void Reads_at_or_past_the_end_are_STATUS_END_OF_FILE_and_an_empty_read_is_success()
    {
        using var file = OpenFile(NewDirectory() + @"\eof.bin", FILE_CREATE);
        Assert.Equal(Hex(STATUS_END_OF_FILE), Hex(ReadAt(file, 0, 10, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, Pattern(10, 1), out _)));
        Assert.Equal(Hex(STATUS_END_OF_FILE), Hex(ReadAt(file, 10, 10, out _)));
        Assert.Equal(Hex(STATUS_END_OF_FILE), Hex(ReadAt(file, 1L << 40, 10, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 100, 0, out var none)));
        Assert.Empty(none);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 6, 10, out var tail)));
        Assert.Equal(4, tail.Length);
    }

    [Fact]
    public void ReadFile_at_the_end_of_a_synchronous_file_is_TRUE_with_no_bytes()
    {
        var path = NewDirectory() + @"\win32.txt";
        var handle = Kernel32.CreateFile(Win32(path), ReadWrite, ShareAll, 0, KernelBridge.Abi.CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        using var file = new OwnedHandle(handle);
        Assert.True(Kernel32.WriteFile(file, "hello"u8, out var written));
        Assert.Equal(5u, written);
        // The position moved to 5: the next read is at the end.
        var buffer = new byte[16];
        Kernel32.SetLastError(IoHelpers.SentinelLastError);
        Assert.True(Kernel32.ReadFile(file, buffer, out var read));
        Assert.Equal(0u, read);
    }

    [Fact]
    public void A_synchronous_file_reads_and_writes_at_its_position_which_moves_by_what_was_moved()
    {
        using var file = OpenFile(NewDirectory() + @"\position.bin", FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, null, Pattern(10, 1), out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, null, Pattern(5, 50), out _)));
        Assert.Equal(15, Position(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, FILE_USE_FILE_POINTER_POSITION, [7, 7], out _)));
        Assert.Equal(17, Position(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 3, 4, out var data)));
        Assert.Equal(Pattern(10, 1)[3..7], data);
        Assert.Equal(7, Position(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, null, 3, out data)));
        Assert.Equal(Pattern(10, 1)[7..10], data);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, FILE_USE_FILE_POINTER_POSITION, 100, out data)));
        Assert.Equal([.. Pattern(5, 50), 7, 7], data);
        Assert.Equal(17, Position(file));
        Assert.Equal(Hex(STATUS_END_OF_FILE), Hex(ReadAt(file, null, 1, out _)));
        Assert.Equal(17, Position(file));
    }

    [Fact]
    public void FILE_WRITE_TO_END_OF_FILE_appends_on_any_handle()
    {
        var path = NewDirectory() + @"\append.log";
        using var file = OpenFile(path, FILE_CREATE);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 0, Pattern(8, 1), out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(path, ReadWrite | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_NON_DIRECTORY_FILE, out var raw, out _)));
        using var overlapped = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(overlapped, FILE_WRITE_TO_END_OF_FILE, [1, 2, 3], out var written)));
        Assert.Equal(3ul, written);
        Assert.Equal(11, EndOfFile(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 8, 3, out var tail)));
        Assert.Equal(new byte[] { 1, 2, 3 }, tail);
    }

    [Fact]
    public void An_overlapped_file_needs_an_offset_and_refuses_a_negative_one()
    {
        var path = NewDirectory() + @"\async.bin";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(path, ReadWrite | SYNCHRONIZE, ShareAll, FILE_CREATE, FILE_NON_DIRECTORY_FILE, out var raw, out _)));
        using var file = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(WriteAt(file, null, [1], out _)));
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(WriteAt(file, FILE_USE_FILE_POINTER_POSITION, [1], out _)));
        Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(ReadAt(file, -5, 1, out _)));
        Assert.Equal(0, EndOfFile(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(file, 4, [1], out _)));
        Assert.Equal(5, EndOfFile(file));
    }

    [Fact]
    public void A_directory_cannot_be_read_or_written()
    {
        var directory = NewDirectory();
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Create(directory, ReadWrite | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
            out var raw, out _)));
        using var handle = new OwnedHandle(raw);
        Assert.Equal(Hex(STATUS_INVALID_DEVICE_REQUEST), Hex(ReadAt(handle, 0, 10, out _)));
        Assert.Equal(Hex(STATUS_INVALID_DEVICE_REQUEST), Hex(WriteAt(handle, 0, [1], out _)));
    }

    [Fact]
    public void Another_open_of_the_same_file_sees_the_data_at_once()
    {
        var path = NewDirectory() + @"\shared.bin";
        using var writer = OpenFile(path, FILE_CREATE);
        using var reader = OpenFile(path, FILE_OPEN);
        var data = Pattern(4000, 77);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(writer, 0, data, out _)));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(reader, 0, 8000, out var back)));
        Assert.Equal(data, back);
    }

    private static long Position(nint handle)
    {
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(handle, FilePositionInformation, 8, out var answer, out _)));
        return BitConverter.ToInt64(answer);
    }
}
