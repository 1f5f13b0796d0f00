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

    /// <summary>
    /// FltDetachVolume asks the instance's query-teardown callback, and without one always refuses
    /// (STATUS_FLT_DO_NOT_DETACH, ERROR_FLT_DO_NOT_DETACH 0x801F0010); FltAttachVolume puts an
    /// instance back, and a second one at the same altitude collides (0x801F0011).
    /// </summary>
    [Fact]
    public async Task Instances_detach_when_their_filter_agrees_and_attach_again_once()
    {
        using var kernel = new MinifilterKernel();
        var directory = await kernel.NewDirectory();
        Assert.Equal(0x801F0010u, await kernel.Detach(MinifilterKernel.Upper));
        await kernel.RefuseDetach(MinifilterKernel.Lower, true);
        Assert.Equal(0x801F0010u, await kernel.Detach(MinifilterKernel.Lower));
        Assert.Equal((1, 1), await kernel.Instances());
        await kernel.RefuseDetach(MinifilterKernel.Lower, false);
        await kernel.TakeLog();
        Assert.Equal(0u, await kernel.Detach(MinifilterKernel.Lower));
        Assert.Equal((1, 0), await kernel.Instances());
        Assert.Contains("L teardown-start FLTFL_INSTANCE_TEARDOWN_MANUAL", await kernel.TakeLog());
        await kernel.Run(() => OpenFile(directory + @"\while-detached.txt", FILE_CREATE).Dispose());
        Assert.DoesNotContain(await kernel.TakeLog(), l => l.StartsWith("L ", StringComparison.Ordinal));

        Assert.Equal(0u, await kernel.Attach(MinifilterKernel.Lower));
        Assert.Contains(await kernel.TakeLog(), l => l.StartsWith("L setup", StringComparison.Ordinal) && l.EndsWith("FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT", StringComparison.Ordinal));
        Assert.Equal(0x801F0011u, await kernel.Attach(MinifilterKernel.Lower));
        Assert.Equal((1, 1), await kernel.Instances());
        await kernel.Run(() => OpenFile(directory + @"\reattached.txt", FILE_CREATE).Dispose());
        Assert.Contains(await kernel.TakeLog(), l => l.StartsWith("L pre CREATE", StringComparison.Ordinal));
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
