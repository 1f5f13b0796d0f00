using KernelBridge.Client;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Measures allocation over the whole process, so nothing else may run meanwhile: xunit runs this
/// collection alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "client allocation";
}

/// <summary>
/// The client's request path allocates nothing in steady state (DESIGN.md, "Performance is designed
/// in"): after a warm-up, 20,000 calls allocate no more than a small fixed slack, counted over every
/// thread of the process (the caller, the gate's reader thread, the pool threads that run awaited
/// continuations). The calls go over a connection of the test's own to a kernel of its own.
/// A round that something else in the process disturbed is measured again; a per-call allocation
/// shows in every round (20,000 calls of even 8 bytes are 160 KB).
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class ClientAllocationTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private const int Calls = 20_000;
    private const int WarmUp = 2_000;
    private const int Rounds = 3;

    /// <summary>Allowed per round whatever the number of calls: the runtime's own odds and ends (a timer, a pool thread starting).</summary>
    private const long Slack = 4 * 1024;

    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_synchronous_IOCTL_allocates_nothing_per_call()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        var input = new byte[16];
        var output = new byte[16];
        var bytes = await Measure(() => echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output));
        Assert.True(bytes <= Slack, $"{Calls} synchronous IOCTLs allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    [Fact]
    public async Task A_synchronous_read_allocates_nothing_per_call()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        echo.Write("sixteen bytes..."u8);
        var buffer = new byte[16];
        var bytes = await Measure(() => echo.Read(buffer));
        Assert.True(bytes <= Slack, $"{Calls} reads allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    [Fact]
    public async Task A_synchronous_write_allocates_nothing_per_call()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        var message = new byte[16];
        var bytes = await Measure(() => echo.Write(message));
        Assert.True(bytes <= Slack, $"{Calls} writes allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    [Fact]
    public async Task A_wait_on_a_signalled_event_allocates_nothing_per_call()
    {
        using var signalled = KernelEvent.Create(manualReset: true, initialState: true, gate: fixture.Gate);
        var bytes = await Measure(() => signalled.Wait());
        Assert.True(bytes <= Slack, $"{Calls} waits allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    /// <summary>The driver pends every request and completes it from a timer: the result comes back as a completion notice.</summary>
    [Fact]
    public async Task An_awaited_IOCTL_that_pends_allocates_nothing_per_call()
    {
        using var file = DeviceFile.OpenOverlapped(KbTest.Path(KbTest.NewTag()), gate: fixture.Gate);
        var input = KbTest.Bytes(new ReturnRequest(0, 0, 8, PendMode.CompleteLater, 0, 'g', 8));
        var output = new byte[8];
        var code = KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value;
        var bytes = await MeasureAsync(() => file.IoControlAsync(code, input, output));
        Assert.True(bytes <= Slack, $"{Calls} awaited IOCTLs allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
        Assert.Equal((byte)'g', output[7]);
    }

    /// <summary>The driver completes at once: the awaited IOCTL finishes without pending.</summary>
    [Fact]
    public async Task An_awaited_IOCTL_completed_at_once_allocates_nothing_per_call()
    {
        using var echo = DeviceFile.OpenOverlapped(EchoInterface.Win32Name, gate: fixture.Gate);
        var input = new byte[16];
        var output = new byte[16];
        var bytes = await MeasureAsync(() => echo.IoControlAsync(EchoInterface.IOCTL_ECHO_BUFFERED, input, output));
        Assert.True(bytes <= Slack, $"{Calls} awaited IOCTLs allocated {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    /// <summary>The least any round allocated, on a worker thread (bounded: a hung kernel fails the test, not the run).</summary>
    private static Task<long> Measure(Action call) => Task.Run(() =>
    {
        for (var i = 0; i < WarmUp; i++) call();
        var least = long.MaxValue;
        for (var round = 0; round < Rounds && least > Slack; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < Calls; i++) call();
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return least;
    }).WaitAsync(Bound);

    /// <summary>As <see cref="Measure(Action)"/>, awaiting each call (off xunit's synchronization context: continuations run on the pool).</summary>
    private static Task<long> MeasureAsync(Func<ValueTask<IoResult>> call) => Task.Run(async () =>
    {
        for (var i = 0; i < WarmUp; i++) await call().ConfigureAwait(false);
        var least = long.MaxValue;
        for (var round = 0; round < Rounds && least > Slack; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < Calls; i++) await call().ConfigureAwait(false);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return least;
    }).WaitAsync(Bound);
}
