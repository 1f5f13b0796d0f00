using System.Buffers.Binary;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// NtQueryDirectoryFile on RamFs, held to what Wine's ntdll directory tests show of Windows: "."
/// and ".." first, then names in case-insensitive order; entries on 8-byte boundaries; the
/// smallest buffer is the fixed part plus one character rounded to 8 (less is
/// STATUS_INFO_LENGTH_MISMATCH, IOSB untouched); a first entry cut short is STATUS_BUFFER_OVERFLOW
/// with the whole name's length; a later entry that does not fit waits, and nothing past the
/// returned bytes is written; STATUS_NO_SUCH_FILE only for a handle's first query.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class DirectoryListingTests
{
    /// <summary>offsetof(FileName) for each class (x64).</summary>
    private static int NameOffset(uint informationClass) => informationClass switch
    {
        FileDirectoryInformation => 64,
        FileFullDirectoryInformation => 68,
        FileBothDirectoryInformation => 94,
        FileNamesInformation => 12,
        37 => 104,
        38 => 80,
        _ => throw new ArgumentOutOfRangeException(nameof(informationClass)),
    };

    private static int Align8(int value) => (value + 7) & ~7;

    [Fact]
    public void A_listing_gives_dot_and_dotdot_then_every_name_in_case_insensitive_order()
    {
        var directory = Populate("beta.txt", "Alpha.TXT", "gamma.log", "delta");
        using var handle = OpenDirectory(directory);
        var names = ListAll(handle, FileBothDirectoryInformation, 8192, pattern: null);
        Assert.Equal([".", "..", "Alpha.TXT", "beta.txt", "delta", "gamma.log"], names);
    }

    [Theory]
    [InlineData(FileDirectoryInformation)]
    [InlineData(FileFullDirectoryInformation)]
    [InlineData(FileBothDirectoryInformation)]
    [InlineData(FileNamesInformation)]
    [InlineData(37u)]
    [InlineData(38u)]
    public void Every_class_lays_out_its_entries_with_8_byte_alignment_and_the_file_facts(uint informationClass)
    {
        var directory = Populate("one.bin", "two");
        using (var file = OpenFile(directory + @"\one.bin", FILE_OPEN)) WriteAt(file, 0, Pattern(1234, 1), out _);
        using var handle = OpenDirectory(directory);
        var buffer = new byte[4096];
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryDirectory(handle, buffer, buffer.Length, informationClass, false, null, false, out var information)));
        var offset = 0;
        var seen = new List<string>();
        var nameOffset = NameOffset(informationClass);
        var lengthAt = informationClass == FileNamesInformation ? 8 : 60;
        while (true)
        {
            var next = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
            var nameLength = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset + lengthAt));
            var name = Encoding.Unicode.GetString(buffer, offset + nameOffset, nameLength);
            seen.Add(name);
            if (informationClass != FileNamesInformation)
            {
                var endOfFile = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(offset + 40));
                var attributes = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 56));
                Assert.Equal(name == "one.bin" ? 1234 : 0, endOfFile);
                Assert.Equal(name is "one.bin" or "two" ? FILE_ATTRIBUTE_ARCHIVE : FILE_ATTRIBUTE_DIRECTORY, attributes);
            }
            if (next == 0)
            {
                Assert.Equal((ulong)(offset + nameOffset + nameLength), information);
                break;
            }
            Assert.Equal(Align8(nameOffset + nameLength), next);
            offset += next;
        }
        Assert.Equal([".", "..", "one.bin", "two"], seen);
    }

    public static TheoryData<string, string[]> Patterns() => new()
    {
        { "*", [".", "..", "a.txt", "ab.txt", "abc.log", "B.TXT", "readme"] },
        { "*.txt", ["a.txt", "ab.txt", "B.TXT"] },
        { "*.TXT", ["a.txt", "ab.txt", "B.TXT"] },
        { "a?.txt", ["ab.txt"] },
        { "?.txt", ["a.txt", "B.TXT"] },
        { "a*", ["a.txt", "ab.txt", "abc.log"] },
        { "README", ["readme"] },
        { "*b*", ["ab.txt", "abc.log", "B.TXT"] },
        { "*.*", [".", "..", "a.txt", "ab.txt", "abc.log", "B.TXT"] },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void The_first_query_s_pattern_selects_names_as_FsRtlIsNameInExpression_does(string pattern, string[] expected)
    {
        var directory = Populate("a.txt", "ab.txt", "abc.log", "B.TXT", "readme");
        using var handle = OpenDirectory(directory);
        Assert.Equal(expected, ListAll(handle, FileNamesInformation, 4096, pattern));
    }

    [Fact]
    public void No_match_is_STATUS_NO_SUCH_FILE_with_the_IOSB_untouched_and_then_STATUS_NO_MORE_FILES_even_on_restart()
    {
        var directory = Populate("file.txt");
        using var handle = OpenDirectory(directory);
        var buffer = new byte[1024];
        var iosb = IoHelpers.SentinelIosb();
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtQueryDirectoryFile(handle, 0, 0, 0, &iosb, pointer, 1024, FileInformationClass.FileBothDirectoryInformation, true, "dummy", true);
        Assert.Equal(Hex(STATUS_NO_SUCH_FILE), Hex(status));
        Assert.Equal(IoHelpers.SentinelStatus, iosb.Status);
        Assert.Equal(Hex(STATUS_NO_MORE_FILES), Hex(QueryDirectory(handle, buffer, 1024, FileBothDirectoryInformation, true, null, false, out _)));
        Assert.Equal(Hex(STATUS_NO_MORE_FILES), Hex(QueryDirectory(handle, buffer, 1024, FileBothDirectoryInformation, true, null, true, out _)));
    }

    [Fact]
    public void ReturnSingleEntry_gives_one_at_a_time_and_RestartScan_starts_over()
    {
        var directory = Populate("x1", "x2");
        using var handle = OpenDirectory(directory);
        var buffer = new byte[4096];
        var names = new List<string>();
        uint status;
        while ((status = QueryDirectory(handle, buffer, buffer.Length, FileNamesInformation, true, null, false, out var information)) == STATUS_SUCCESS)
        {
            Assert.True(names.Count < 10, "the listing does not end");
            Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(buffer));
            names.Add(Encoding.Unicode.GetString(buffer, 12, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(8))));
            Assert.Equal((ulong)(12 + names[^1].Length * 2), information);
        }
        Assert.Equal(Hex(STATUS_NO_MORE_FILES), Hex(status));
        Assert.Equal([".", "..", "x1", "x2"], names);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryDirectory(handle, buffer, buffer.Length, FileNamesInformation, true, null, true, out _)));
        Assert.Equal(".", Encoding.Unicode.GetString(buffer, 12, 2));
    }

    [Theory]
    [InlineData(FileDirectoryInformation, 72)]
    [InlineData(FileFullDirectoryInformation, 72)]
    [InlineData(FileBothDirectoryInformation, 96)]
    [InlineData(FileNamesInformation, 16)]
    public void A_buffer_below_the_smallest_entry_is_STATUS_INFO_LENGTH_MISMATCH_and_the_smallest_one_overflows(uint informationClass, int smallest)
    {
        var directory = Populate("longfilename.tmp");
        using var handle = OpenDirectory(directory);
        var buffer = new byte[smallest + 16];
        Array.Fill(buffer, (byte)0x55);
        var iosb = IoHelpers.SentinelIosb();
        Assert.Equal(Hex(STATUS_INFO_LENGTH_MISMATCH), Hex(QueryRaw(handle, buffer, smallest - 1, informationClass, true, "longfilename.tmp", true, ref iosb)));
        Assert.Equal(IoHelpers.SentinelStatus, iosb.Status);
        Assert.Equal(0x55, buffer[0]);

        Assert.Equal(Hex(STATUS_BUFFER_OVERFLOW), Hex(QueryRaw(handle, buffer, smallest, informationClass, true, "longfilename.tmp", true, ref iosb)));
        Assert.Equal(unchecked((int)STATUS_BUFFER_OVERFLOW), iosb.Status);
        Assert.Equal((nuint)smallest, iosb.Information);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(buffer));
        var lengthAt = informationClass == FileNamesInformation ? 8 : 60;
        Assert.Equal("longfilename.tmp".Length * 2, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(lengthAt)));
        Assert.Equal('l', (char)BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(NameOffset(informationClass))));
        // Nothing past the buffer's length was written.
        Assert.All(buffer[smallest..], b => Assert.Equal(0x55, b));
    }

    [Fact]
    public void An_entry_that_does_not_fit_whole_waits_for_the_next_query_and_nothing_past_the_returned_bytes_is_written()
    {
        var directory = NewDirectory();
        using var handle = OpenDirectory(directory);
        // "." takes 96 bytes with its alignment; ".." needs 98 more.
        var buffer = new byte[512];
        Array.Fill(buffer, (byte)0x55);
        var iosb = IoHelpers.SentinelIosb();
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryRaw(handle, buffer, 96 + 97, FileBothDirectoryInformation, false, null, true, ref iosb)));
        Assert.Equal((nuint)96, iosb.Information);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(buffer));
        Assert.Equal(0x55555555u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(96)));

        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryRaw(handle, buffer, 96 + 98, FileBothDirectoryInformation, false, null, true, ref iosb)));
        Assert.Equal((nuint)(96 + 98), iosb.Information);
        Assert.Equal(96, BinaryPrimitives.ReadInt32LittleEndian(buffer));
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(96)));

        // Without a restart the next query goes on after "..".
        Assert.Equal(Hex(STATUS_NO_MORE_FILES), Hex(QueryRaw(handle, buffer, 512, FileBothDirectoryInformation, false, null, false, ref iosb)));
    }

    [Fact]
    public void The_root_lists_no_dots()
    {
        using var root = OpenDirectory(NtRoot + @"\");
        var buffer = new byte[4096];
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryDirectory(root, buffer, buffer.Length, FileNamesInformation, true, null, true, out _)));
        var first = Encoding.Unicode.GetString(buffer, 12, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(8)));
        Assert.NotEqual(".", first);
    }

    [Fact]
    public void Misuse_gets_the_Windows_status()
    {
        var directory = Populate("file.txt");
        var buffer = new byte[1024];
        using (var file = OpenFile(directory + @"\file.txt", FILE_OPEN, GENERIC_READ | SYNCHRONIZE))
            Assert.Equal(Hex(STATUS_INVALID_PARAMETER), Hex(QueryDirectory(file, buffer, 1024, FileNamesInformation, false, null, false, out _)));
        using (var noList = OpenDirectory(directory, FILE_READ_ATTRIBUTES | SYNCHRONIZE))
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(QueryDirectory(noList, buffer, 1024, FileNamesInformation, false, null, false, out _)));
        using var handle = OpenDirectory(directory);
        Assert.Equal(Hex(STATUS_INVALID_INFO_CLASS), Hex(QueryDirectory(handle, buffer, 1024, FileBasicInformation, false, null, false, out _)));
        Assert.Equal(Hex(STATUS_INVALID_INFO_CLASS), Hex(QueryDirectory(handle, buffer, 1024, 29, false, null, false, out _)));
        Assert.Equal(Hex(0xC0000008), Hex(QueryDirectory(0xBEEF, buffer, 1024, FileNamesInformation, false, null, false, out _)));
        var iosb = IoHelpers.SentinelIosb();
        Assert.Equal(Hex(0xC0000005), Hex(Ntdll.NtQueryDirectoryFile(handle, 0, 0, 0, &iosb, null, 1024, FileInformationClass.FileNamesInformation, false,
            null, false).Code));
        Assert.Equal(Hex(STATUS_OBJECT_NAME_INVALID), Hex(QueryDirectory(handle, buffer, 1024, FileNamesInformation, false, @"a\b", false, out _)));
        // The refusals changed nothing: the handle's first real query still lists from the start.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(QueryDirectory(handle, buffer, 1024, FileNamesInformation, true, null, false, out _)));
        Assert.Equal(".", Encoding.Unicode.GetString(buffer, 12, 2));
    }

    [Fact]
    public void Bad_lengths_and_classes_for_NtSetInformationFile_get_the_I_O_manager_s_status_and_change_nothing()
    {
        using var file = OpenFile(NewDirectory() + @"\set.bin", FILE_CREATE, ReadWrite | DELETE | SYNCHRONIZE);
        long size = 100;
        var iosb = IoHelpers.SentinelIosb();
        Assert.Equal(Hex(STATUS_INFO_LENGTH_MISMATCH), Hex(Ntdll.NtSetInformationFile(file, &iosb, &size, 7, FileInformationClass.FileEndOfFileInformation).Code));
        Assert.Equal(Hex(STATUS_INFO_LENGTH_MISMATCH), Hex(Ntdll.NtSetInformationFile(file, &iosb, &size, 0, FileInformationClass.FileDispositionInformation).Code));
        Assert.Equal(Hex(STATUS_INVALID_INFO_CLASS), Hex(Ntdll.NtSetInformationFile(file, &iosb, &size, 8, (FileInformationClass)200).Code));
        Assert.Equal(IoHelpers.SentinelStatus, iosb.Status);
        Assert.Equal(0, EndOfFile(file));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Probe(NtRoot + @"")));
    }

    [Fact]
    public void FindFirstFile_and_FindNextFile_walk_the_listing_with_the_Win32_errors()
    {
        var directory = Populate("one.txt", "two.txt", "three.dat");
        var data = new WIN32_FIND_DATA();
        var find = Kernel32.FindFirstFile(Win32(directory) + @"\*.txt", data);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, find);
        var names = new List<string> { data.FileName };
        // Bounded: a listing that never ends fails instead of hanging.
        for (var i = 0; i < 100 && Kernel32.FindNextFile(find, data); i++) names.Add(data.FileName);
        Assert.Equal(ERROR_NO_MORE_FILES, Kernel32.GetLastError());
        Assert.True(Kernel32.FindClose(find));
        Assert.Equal(["one.txt", "two.txt"], names);

        find = Kernel32.FindFirstFile(Win32(directory) + @"\*", data);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, find);
        Assert.Equal(".", data.FileName);
        Assert.Equal(FILE_ATTRIBUTE_DIRECTORY, data.FileAttributes);
        Assert.True(Kernel32.FindClose(find));
        Assert.False(Kernel32.FindClose(find));

        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.FindFirstFile(Win32(directory) + @"\*.none", data));
        Assert.Equal(ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, Kernel32.FindFirstFile(Win32(directory) + @"\missing\*", data));
        Assert.Equal(ERROR_PATH_NOT_FOUND, Kernel32.GetLastError());
    }

    [Fact]
    public void A_long_listing_comes_in_several_queries_without_losing_or_repeating_a_name()
    {
        var names = Enumerable.Range(0, 300).Select(i => $"file{i:D4}.dat").ToArray();
        var directory = Populate(names);
        using var handle = OpenDirectory(directory);
        var listed = ListAll(handle, FileDirectoryInformation, 1000, "*.dat");
        Assert.Equal(names, listed);
    }

    /// <summary>A new directory holding empty files of these names.</summary>
    private static string Populate(params string[] names)
    {
        var directory = NewDirectory();
        foreach (var name in names)
            using (OpenFile(directory + @"\" + name, FILE_CREATE)) { }
        return directory;
    }

    private static OwnedHandle OpenDirectory(string path, uint access = FILE_LIST_DIRECTORY | SYNCHRONIZE)
    {
        var status = Create(path, access, ShareAll, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out _);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(status));
        return new OwnedHandle(handle);
    }

    private static uint QueryDirectory(nint handle, byte[] buffer, int length, uint informationClass, bool single, string? pattern, bool restart,
        out ulong information)
    {
        var iosb = IoHelpers.SentinelIosb();
        var status = QueryRaw(handle, buffer, length, informationClass, single, pattern, restart, ref iosb);
        information = iosb.Information;
        return status;
    }

    private static uint QueryRaw(nint handle, byte[] buffer, int length, uint informationClass, bool single, string? pattern, bool restart,
        ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* status = &iosb)
            return Ntdll.NtQueryDirectoryFile(handle, 0, 0, 0, status, pointer, (uint)length, (FileInformationClass)informationClass, single, pattern, restart)
                .Code;
    }

    /// <summary>Every name the handle lists, query after query, with buffers of <paramref name="length"/> bytes.</summary>
    private static List<string> ListAll(nint handle, uint informationClass, int length, string? pattern)
    {
        var names = new List<string>();
        var buffer = new byte[length];
        var lengthAt = informationClass == FileNamesInformation ? 8 : 60;
        for (var query = 0; query < 1000; query++)
        {
            var status = QueryDirectory(handle, buffer, length, informationClass, false, query == 0 ? pattern : null, false, out _);
            if (status == STATUS_NO_MORE_FILES) return names;
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(status));
            var offset = 0;
            while (true)
            {
                var nameLength = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset + lengthAt));
                names.Add(Encoding.Unicode.GetString(buffer, offset + NameOffset(informationClass), nameLength));
                var next = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
                if (next == 0) break;
                offset += next;
            }
        }
        throw new InvalidOperationException("the listing did not end");
    }
}
