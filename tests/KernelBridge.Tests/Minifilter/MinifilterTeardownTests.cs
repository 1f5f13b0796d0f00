using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestMinifilter;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.Minifilter;

/// <summary>Instances leaving, in kernels of their own: unregistering a filter, and a filter that throws.</summary>
public sealed class MinifilterTeardownTests
{
    [Fact]
    public async Task Unregistering_a_filter_tears_its_instance_down_cleans_its_contexts_and_later_operations_skip_it()
    {
        using var kernel = new MinifilterKernel();
        var directory = await kernel.NewDirectory();
        var file = directory + @"\kept-open.txt";
        var handle = await kernel.Run(() => OpenFile(file, FILE_CREATE));
        try
        {
            var before = await kernel.Counters(MinifilterKernel.Lower);
            Assert.Equal(1, before.StreamContextsAlive);
            await kernel.Unregister(MinifilterKernel.Lower);
            var after = await kernel.Counters(MinifilterKernel.Lower);
            Assert.Equal(before.TeardownStarts + 1, after.TeardownStarts);
            Assert.Equal(before.TeardownCompletes + 1, after.TeardownCompletes);
            Assert.Equal(0, after.StreamContextsAlive);
            Assert.Equal(before.HandleContextCleanups + 1, after.HandleContextCleanups);
            Assert.Equal((1, 0), await kernel.Instances());
            await kernel.TakeLog();
            await kernel.Run(() => OpenFile(directory + @"\after.txt", FILE_CREATE).Dispose());
            var log = await kernel.TakeLog();
            Assert.Contains(log, l => l.StartsWith("U pre CREATE", StringComparison.Ordinal));
            Assert.DoesNotContain(log, l => l.StartsWith("L ", StringComparison.Ordinal));
        }
        finally
        {
            await kernel.Run(() => handle.Dispose());
        }
    }

    [Fact]
    public async Task A_filter_that_throws_fails_that_operation_gets_a_bug_check_report_and_is_not_called_again()
    {
        using var kernel = new MinifilterKernel();
        var directory = await kernel.NewDirectory();
        var file = directory + @"\throws.txt";
        await kernel.Rule(MinifilterKernel.Upper, RuleKind.ThrowInPreRead, 0, "throws");
        var (first, second) = await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            WriteAt(handle.Value, 0, "data"u8.ToArray(), out _);
            var failed = ReadAt(handle.Value, 0, 4, out _);
            var next = ReadAt(handle.Value, 0, 4, out var data);
            return (failed, (next, data));
        });
        Assert.Equal(Hex(0xC0000183), Hex(first)); // STATUS_DRIVER_INTERNAL_ERROR
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(second.next));
        Assert.Equal("data"u8.ToArray(), second.data);
        Assert.True(kernel.Process.Process.WaitForLine("KMODE_EXCEPTION_NOT_HANDLED", TimeSpan.FromSeconds(5)),
            $"no bug-check report:{Environment.NewLine}{kernel.Process.Process.Output}");
    }
}
