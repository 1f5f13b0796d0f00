using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// NtQueryDirectoryObject: entries, a zeroed terminator entry, then the strings, with the
/// UNICODE_STRING buffers pointing into the caller's buffer; the context is an entry index
/// (WRK ob/obdir.c NtQueryDirectoryObject; Wine om.c test_query_directory, run on Windows).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class DirectoryQueryTests
{
    private const int Entry = ObTest.DirectoryEntrySize;
    private const int Big = 256 * 1024;

    private static nint Open(string name, uint access = ObTest.DirectoryAccess)
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(name, out var handle, access));
        return handle;
    }

    private static int SingleEntrySize(DirectoryEntryView entry) => 2 * Entry + entry.StringBytes;

    [Theory]
    [InlineData(@"\")]
    [InlineData(@"\Device")]
    [InlineData(@"\??")]
    public void Entries_are_followed_by_a_zero_entry_and_then_their_strings_packed_in_the_callers_buffer(string path)
    {
        var directory = Open(path);
        try
        {
            var query = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: true, context: 0);
            Assert.Equal(NtStatus.STATUS_SUCCESS, query.Status);
            var entries = query.Entries();
            Assert.NotEmpty(entries);
            Assert.True(query.IsZeroEntry(entries.Count * Entry), "no zeroed terminator entry after the last one");
            Assert.Equal((uint)entries.Count, query.Context);

            var expectedOffset = (long)Entry * (entries.Count + 1);
            foreach (var entry in entries)
            {
                foreach (var text in new[] { entry.Name, entry.Type })
                {
                    Assert.Equal(expectedOffset, text.Offset);
                    Assert.Equal(text.Length + 2, text.MaximumLength);
                    Assert.True(text.Terminated, $"'{text.Value}' is not NUL-terminated");
                    Assert.NotEqual(0, text.Length);
                    expectedOffset += text.Length + 2;
                }
            }
            Assert.Equal((uint)expectedOffset, query.ReturnLength);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void The_Device_directory_lists_Echo_Null_and_the_test_devices_as_Device()
    {
        var listed = ObjectNamespace.List(@"\Device");
        foreach (var name in new[] { "Echo", "Null", "KbTest", "KbTestDirect", "KbTestNeither", "KbTestExclusive" })
        {
            var entry = Assert.Single(listed, e => e.Name == name);
            Assert.Equal("Device", entry.TypeName);
            Assert.Null(entry.LinkTarget);
        }
        var directory = Open(@"\Device");
        try
        {
            Assert.Equal(listed.Select(e => (e.Name, e.TypeName)), DirectoryQuery.All(directory));
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void The_DosDevices_directory_lists_Echo_as_a_symbolic_link_to_Device_Echo()
    {
        var listed = ObjectNamespace.List(@"\??");
        var echo = Assert.Single(listed, e => e.Name == "Echo");
        Assert.Equal("SymbolicLink", echo.TypeName);
        Assert.Equal(@"\Device\Echo", echo.LinkTarget);
        var kbtest = Assert.Single(listed, e => e.Name == "KbTest");
        Assert.Equal(@"\Device\KbTest", kbtest.LinkTarget);
        Assert.All(listed, e => Assert.Equal("SymbolicLink", e.TypeName));
    }

    [Fact]
    public void The_root_directory_lists_the_standard_directories_and_the_DosDevices_link()
    {
        var listed = ObjectNamespace.List(@"\");
        foreach (var name in new[] { "Device", "Driver", "ObjectTypes" })
            Assert.Equal("Directory", Assert.Single(listed, e => e.Name == name).TypeName);
        var dosDevices = Assert.Single(listed, e => e.Name == "DosDevices");
        Assert.Equal("SymbolicLink", dosDevices.TypeName);
        Assert.Equal(@"\??", dosDevices.LinkTarget);
    }

    [Fact]
    public void The_context_is_an_entry_index_to_continue_from()
    {
        var directory = Open(@"\Device");
        try
        {
            var all = DirectoryQuery.All(directory);
            Assert.True(all.Count >= 4);
            for (var start = 1; start < all.Count; start++)
            {
                var query = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: false, context: (uint)start);
                Assert.Equal(NtStatus.STATUS_SUCCESS, query.Status);
                Assert.Equal(all.Skip(start), query.Entries().Select(e => e.Pair));
                Assert.Equal((uint)all.Count, query.Context);
            }
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void RestartScan_starts_from_the_first_entry_whatever_the_context_says()
    {
        var directory = Open(@"\Device");
        try
        {
            var all = DirectoryQuery.All(directory);
            var query = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: true, context: 3);
            Assert.Equal(NtStatus.STATUS_SUCCESS, query.Status);
            Assert.Equal(all, query.Entries().Select(e => e.Pair));
            Assert.Equal((uint)all.Count, query.Context);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void Past_the_last_entry_the_answer_is_STATUS_NO_MORE_ENTRIES_with_the_context_unchanged_and_only_a_zero_entry()
    {
        var directory = Open(@"\Device");
        try
        {
            var count = (uint)DirectoryQuery.All(directory).Count;
            foreach (var context in new[] { count, count + 5 })
            {
                var query = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: false, context: context);
                Assert.Equal(NtStatus.STATUS_NO_MORE_ENTRIES, query.Status);
                Assert.Equal(context, query.Context);
                Assert.Equal((uint)Entry, query.ReturnLength);
                Assert.True(query.IsZeroEntry(0));
            }
            var single = DirectoryQuery.Run(directory, Big, returnSingleEntry: true, restartScan: false, context: count);
            Assert.Equal(NtStatus.STATUS_NO_MORE_ENTRIES, single.Status);
            Assert.Equal(count, single.Context);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Theory]
    [InlineData(@"\")]
    [InlineData(@"\Device")]
    public void ReturnSingleEntry_walks_every_entry_one_call_at_a_time(string path)
    {
        var directory = Open(path);
        try
        {
            var all = DirectoryQuery.All(directory);
            var walked = new List<(string, string)>();
            uint context = 0;
            var restart = true;
            for (var calls = 0; calls <= all.Count + 1; calls++)
            {
                var query = DirectoryQuery.Run(directory, 4096, returnSingleEntry: true, restartScan: restart, context: restart ? 0xFFFF : context);
                restart = false;
                if (query.Status == NtStatus.STATUS_NO_MORE_ENTRIES)
                {
                    Assert.Equal(context, query.Context);
                    break;
                }
                Assert.Equal(NtStatus.STATUS_SUCCESS, query.Status);
                var entry = Assert.Single(query.Entries());
                Assert.Equal((uint)SingleEntrySize(entry), query.ReturnLength);
                Assert.Equal(2L * Entry, entry.Name.Offset);
                Assert.Equal(context + 1, query.Context);
                context = query.Context;
                walked.Add(entry.Pair);
            }
            Assert.Equal(all, walked);
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void ReturnSingleEntry_with_too_small_a_buffer_is_STATUS_BUFFER_TOO_SMALL_with_the_size_needed_and_the_context_unchanged()
    {
        var directory = Open(@"\Device");
        try
        {
            var second = DirectoryQuery.Run(directory, 4096, returnSingleEntry: true, restartScan: false, context: 1);
            Assert.Equal(NtStatus.STATUS_SUCCESS, second.Status);
            var needed = SingleEntrySize(Assert.Single(second.Entries()));
            foreach (var length in new[] { 0, Entry, 2 * Entry, needed - 1 })
            {
                var query = DirectoryQuery.Run(directory, length, returnSingleEntry: true, restartScan: false, context: 1);
                Assert.Equal(NtStatus.STATUS_BUFFER_TOO_SMALL, query.Status);
                Assert.Equal(1u, query.Context);
                Assert.Equal((uint)needed, query.ReturnLength);
            }
            var exact = DirectoryQuery.Run(directory, needed, returnSingleEntry: true, restartScan: false, context: 1);
            Assert.Equal(NtStatus.STATUS_SUCCESS, exact.Status);
            Assert.Equal(2u, exact.Context);
            Assert.Equal(second.Entries().Select(e => e.Pair), exact.Entries().Select(e => e.Pair));
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void A_buffer_that_holds_only_some_entries_gives_STATUS_MORE_ENTRIES_and_the_next_call_goes_on_from_there()
    {
        var directory = Open(@"\Device");
        try
        {
            var full = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: true, context: 0);
            var entries = full.Entries();
            Assert.True(entries.Count >= 4);
            var twoEntries = 3 * Entry + entries[0].StringBytes + entries[1].StringBytes;
            var threeEntries = 4 * Entry + entries[0].StringBytes + entries[1].StringBytes + entries[2].StringBytes;
            foreach (var length in new[] { twoEntries, threeEntries - 1 })
            {
                var part = DirectoryQuery.Run(directory, length, returnSingleEntry: false, restartScan: true, context: 0);
                Assert.Equal(NtStatus.STATUS_MORE_ENTRIES, part.Status);
                Assert.Equal(2u, part.Context);
                Assert.Equal((uint)twoEntries, part.ReturnLength);
                Assert.Equal(entries.Take(2).Select(e => e.Pair), part.Entries().Select(e => e.Pair));
                Assert.True(part.IsZeroEntry(2 * Entry));

                var rest = DirectoryQuery.Run(directory, Big, returnSingleEntry: false, restartScan: false, context: part.Context);
                Assert.Equal(NtStatus.STATUS_SUCCESS, rest.Status);
                Assert.Equal(entries.Skip(2).Select(e => e.Pair), rest.Entries().Select(e => e.Pair));
                Assert.Equal((uint)entries.Count, rest.Context);
            }
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Entry)]
    [InlineData(Entry + 8)]
    public void A_buffer_too_small_for_any_entry_gives_STATUS_MORE_ENTRIES_with_only_the_terminator(int length)
    {
        var directory = Open(@"\Device");
        try
        {
            var query = DirectoryQuery.Run(directory, length, returnSingleEntry: false, restartScan: true, context: 7);
            Assert.Equal(NtStatus.STATUS_MORE_ENTRIES, query.Status);
            Assert.Equal(0u, query.Context);
            Assert.Equal((uint)Entry, query.ReturnLength);
            if (length >= Entry) Assert.True(query.IsZeroEntry(0));
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void A_directory_handle_without_DIRECTORY_QUERY_is_STATUS_ACCESS_DENIED_and_nothing_is_written()
    {
        var directory = Open(@"\Device", AccessMask.DIRECTORY_TRAVERSE);
        try
        {
            var query = DirectoryQuery.Run(directory, 4096, returnSingleEntry: false, restartScan: true, context: 5);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, query.Status);
            Assert.Equal(5u, query.Context);
            Assert.Equal(0xDEADBEEFu, query.ReturnLength);
            Assert.All(query.Buffer, b => Assert.Equal(0xCC, b));
        }
        finally
        {
            ObTest.Close(directory);
        }
    }

    [Fact]
    public void Querying_something_that_is_not_a_directory_is_STATUS_OBJECT_TYPE_MISMATCH_and_a_bad_handle_STATUS_INVALID_HANDLE()
    {
        var file = KbTest.Open(KbTest.NewTag());
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            foreach (var handle in new[] { file, link })
            {
                var query = DirectoryQuery.Run(handle, 4096, returnSingleEntry: false, restartScan: true, context: 5);
                Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, query.Status);
                Assert.Equal(5u, query.Context);
                Assert.Equal(0xDEADBEEFu, query.ReturnLength);
            }
            var bad = DirectoryQuery.Run(0x7FF4, 4096, returnSingleEntry: false, restartScan: true, context: 5);
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, bad.Status);
            Assert.Equal(5u, bad.Context);
            Assert.Equal(0xDEADBEEFu, bad.ReturnLength);
        }
        finally
        {
            Kernel32.CloseHandle(file);
            ObTest.Close(link);
        }
    }
}
