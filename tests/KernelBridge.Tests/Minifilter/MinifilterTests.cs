using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.FileSystem;
using KernelBridge.TestMinifilter;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.Minifilter;

/// <summary>
/// The filter manager through a real kernel: two minifilters (U above L) on \Device\RamFs. What
/// Windows does is in the filter manager's documentation (FLT_PREOP_CALLBACK_STATUS,
/// FltCompletePendedPreOperation, FltCancelFileOpen, FltReadFile, FltSetStreamContext) and
/// Windows-driver-samples' minifilters (scanner, ctx): pre-callbacks run from the highest altitude
/// down, post-callbacks back up; a pre-callback that completes the operation hides it from the
/// instances below and the file system, and the instances above still get their post-callbacks.
/// </summary>
public sealed class MinifilterTests(MinifilterKernel kernel) : IClassFixture<MinifilterKernel>
{
    private async Task<string> Fresh()
    {
        await kernel.ClearRules();
        var directory = await kernel.NewDirectory();
        await kernel.TakeLog();
        return directory;
    }

    private async Task<string[]> LogUntil(string start)
    {
        var lines = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!lines.Exists(l => l.StartsWith(start, StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            lines.AddRange(await kernel.TakeLog());
            await Task.Delay(20);
        }
        return [.. lines];
    }

    private static string Name(string ntPath) => ntPath[NtRoot.Length..];

    private static string[] For(string[] log, string file) => [.. log.Where(l => l.Contains(Name(file) + " ", StringComparison.Ordinal) || l.EndsWith(Name(file), StringComparison.Ordinal) || l.Contains(Name(file) + " pid", StringComparison.Ordinal))];

    private static int IndexOf(string[] log, string start) => Array.FindIndex(log, l => l.StartsWith(start, StringComparison.Ordinal));

    [Fact]
    public async Task Both_filters_attach_to_the_RAM_file_system_volume_when_they_start_filtering()
    {
        var (upper, lower) = await kernel.Instances();
        Assert.Equal(1, upper);
        Assert.Equal(1, lower);
        var counters = await kernel.Counters(MinifilterKernel.Upper);
        Assert.True(counters.InstancesSetUp >= 1);
    }

    [Fact]
    public async Task Pre_callbacks_run_from_the_highest_altitude_down_and_post_callbacks_back_up_for_every_operation()
    {
        var directory = await Fresh();
        var file = directory + @"\order.txt";
        await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(handle.Value, 0, "abc"u8.ToArray(), out _)));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(handle.Value, 0, 3, out _)));
        });
        var log = For(await LogUntil("U post CLOSE "), file);
        foreach (var major in new[] { "CREATE", "WRITE", "READ", "CLEANUP", "CLOSE" })
        {
            var upperPre = IndexOf(log, $"U pre {major} ");
            var lowerPre = IndexOf(log, $"L pre {major} ");
            var lowerPost = IndexOf(log, $"L post {major} ");
            var upperPost = IndexOf(log, $"U post {major} ");
            Assert.True(upperPre >= 0 && upperPre < lowerPre && lowerPre < lowerPost && lowerPost < upperPost,
                $"{major}: expected U pre, L pre, L post, U post in order:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
            Assert.EndsWith("direct", log[upperPost], StringComparison.Ordinal); // the completion context from the pre-callback
        }
        Assert.Contains(log, l => l.StartsWith("U post CREATE", StringComparison.Ordinal) && l.Contains("STATUS_SUCCESS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_requestor_is_the_calling_process()
    {
        var directory = await Fresh();
        var file = directory + @"\who.txt";
        await kernel.Run(() => OpenFile(file, FILE_CREATE).Dispose());
        Assert.Contains(For(await kernel.TakeLog(), file), l => l.StartsWith("U pre CREATE", StringComparison.Ordinal)
            && l.EndsWith($"pid={Environment.ProcessId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_create_completed_in_a_pre_callback_never_reaches_the_file_system_and_the_filters_above_see_its_status()
    {
        var directory = await Fresh();
        var file = directory + @"\denied-pre.txt";
        await kernel.Rule(MinifilterKernel.Lower, RuleKind.DenyInPreCreate, 0, "denied-pre");
        var (handle, error) = await kernel.Run(() =>
        {
            var h = Kernel32.CreateFile(Win32(file), GENERIC_READ | GENERIC_WRITE, 0, 0, CreationDisposition.CREATE_NEW, 0, 0);
            return (h, Kernel32.GetLastError());
        });
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.Equal(ERROR_ACCESS_DENIED, error);
        await kernel.ClearRules();
        Assert.Equal(Hex(STATUS_OBJECT_NAME_NOT_FOUND), Hex(await kernel.Run(() => Probe(file))));
        var log = For(await kernel.TakeLog(), file);
        Assert.Contains(log, l => l.StartsWith("U post CREATE", StringComparison.Ordinal) && l.Contains("STATUS_ACCESS_DENIED", StringComparison.Ordinal));
        Assert.DoesNotContain(log, l => l.StartsWith("L post CREATE", StringComparison.Ordinal) && l.Contains("ACCESS_DENIED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FltCancelFileOpen_in_post_create_fails_the_open_and_the_file_system_lets_go_of_it()
    {
        var directory = await Fresh();
        var file = directory + @"\denied-post.txt";
        await kernel.Run(() => OpenFile(file, FILE_CREATE).Dispose());
        await kernel.Rule(MinifilterKernel.Upper, RuleKind.DenyInPostCreate, 0, "denied-post");
        // Opened sharing nothing: if the file system still held this open, the next one would be a sharing violation.
        var denied = await kernel.Run(() => Create(file, GENERIC_READ | SYNCHRONIZE, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out _, out _));
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(denied));
        await kernel.ClearRules();
        var reopened = await kernel.Run(() =>
        {
            var status = Create(file, GENERIC_READ | SYNCHRONIZE, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out var h, out _);
            if (h != 0) Kernel32.CloseHandle(h);
            return status;
        });
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(reopened));
    }

    [Fact]
    public async Task Operations_pended_in_pre_callbacks_are_resumed_from_another_thread_and_complete_with_their_data()
    {
        var directory = await Fresh();
        var file = directory + @"\pended-pre.txt";
        await kernel.Rule(MinifilterKernel.Upper, RuleKind.PendPre, 30, "pended-pre");
        var data = Pattern(5000, 3);
        var read = await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(handle.Value, 0, data, out var written)));
            Assert.Equal((ulong)data.Length, written);
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(handle.Value, 0, data.Length, out var back)));
            return back;
        });
        Assert.Equal(data, read);
        // CloseHandle does not wait for CLEANUP and CLOSE here: collect the log until the close has gone all the way.
        var log = For(await LogUntil("U post CLOSE "), file);
        foreach (var major in new[] { "CREATE", "WRITE", "READ", "CLEANUP", "CLOSE" })
        {
            var resumed = IndexOf(log, $"U resume-pre {major} ");
            Assert.True(resumed >= 0 && resumed < IndexOf(log, $"L pre {major} "), $"{major} was not resumed before the lower filter saw it:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
            Assert.EndsWith("pended", log[IndexOf(log, $"U post {major} ")], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_create_held_in_a_post_callback_completes_when_the_filter_resumes_it()
    {
        var directory = await Fresh();
        var file = directory + @"\pended-post.txt";
        await kernel.Rule(MinifilterKernel.Lower, RuleKind.PendPostCreate, 50, "pended-post");
        await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(WriteAt(handle.Value, 0, "x"u8.ToArray(), out _)));
        });
        var log = For(await kernel.TakeLog(), file);
        var resumed = IndexOf(log, "L resume-post CREATE");
        Assert.True(resumed >= 0 && resumed < IndexOf(log, "U post CREATE "), string.Join(Environment.NewLine, log));
    }

    [Fact]
    public async Task A_write_denied_in_its_pre_callback_fails_with_access_denied_and_changes_nothing()
    {
        var directory = await Fresh();
        var file = directory + @"\no-write.txt";
        await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            WriteAt(handle.Value, 0, "keep"u8.ToArray(), out _);
        });
        await kernel.Rule(MinifilterKernel.Lower, RuleKind.DenyWrite, 0, "no-write");
        var (ok, error, length) = await kernel.Run(() =>
        {
            var h = Kernel32.CreateFile(Win32(file), GENERIC_READ | GENERIC_WRITE, 7, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
            try
            {
                var written = Kernel32.WriteFile(h, "overwritten"u8, out _);
                return (written, Kernel32.GetLastError(), EndOfFile(h));
            }
            finally
            {
                Kernel32.CloseHandle(h);
            }
        });
        Assert.False(ok);
        Assert.Equal(ERROR_ACCESS_DENIED, error);
        Assert.Equal(4, length);
    }

    [Fact]
    public async Task FltReadFile_from_a_post_create_callback_reads_through_the_instances_below_only()
    {
        var directory = await Fresh();
        var file = directory + @"\read-me.txt";
        await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            WriteAt(handle.Value, 0, "hello scanner"u8.ToArray(), out _);
        });
        await kernel.Rule(MinifilterKernel.Upper, RuleKind.ReadInPostCreate, 5, "read-me");
        await kernel.TakeLog();
        await kernel.Run(() => OpenFile(file, FILE_OPEN).Dispose());
        var log = For(await kernel.TakeLog(), file);
        Assert.Contains(log, l => l.StartsWith($"U read {Name(file)} STATUS_SUCCESS", StringComparison.Ordinal) && l.EndsWith(" hello", StringComparison.Ordinal));
        var reads = log.Where(l => l.Contains(" pre READ ", StringComparison.Ordinal)).ToArray();
        Assert.Single(reads);
        Assert.StartsWith("L pre READ", reads[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_context_is_shared_by_the_opens_of_one_file_and_cleaned_up_after_the_last_close()
    {
        var directory = await Fresh();
        var file = directory + @"\shared-stream.txt";
        var before = await kernel.Counters(MinifilterKernel.Lower);
        await kernel.Run(() =>
        {
            using var first = OpenFile(file, FILE_CREATE);
            using var second = OpenFile(file, FILE_OPEN);
            using var third = OpenFile(file, FILE_OPEN);
        });
        var after = await kernel.Counters(MinifilterKernel.Lower);
        Assert.True(after.MaxOpensOnOneStream >= 3, $"the stream context counted {after.MaxOpensOnOneStream} opens");
        Assert.Equal(before.StreamContextCleanups + 1, after.StreamContextCleanups);
        Assert.Equal(before.HandleContextCleanups + 3, after.HandleContextCleanups);
        Assert.Equal(before.StreamContextsAlive, after.StreamContextsAlive);
    }
}
