using KernelBridge.Client;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// The kernel's request path allocates nothing in steady state: after a warm-up, 20,000 calls make
/// the kernel process allocate no more than a small fixed slack (its own allocation counter,
/// GC.GetTotalAllocatedBytes over every thread, read through KbQueryKernelState before and after).
/// A kernel of the test's own serves only this test's connection; its timers (the thread reaper)
/// allocate a little now and then, so a round over the slack is measured again. An allocation per
/// call shows in every round (the smallest object is 24 bytes: 480 KB per round).
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class KernelAllocationTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private const int Calls = 20_000;
    private const int WarmUp = 2_000;
    private const int Rounds = 5;

    /// <summary>Allowed per round whatever the number of calls: the two state queries and the kernel's own timers.</summary>
    private const long Slack = 32 * 1024;

    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    // A Debug build compiles every async method's state machine as a class (the frame receiver's
    // among them: one per frame), so only an optimised kernel says anything about the request path.
#if DEBUG
    private const string Release = "measured on Release builds only";
#else
    private const string? Release = null;
#endif

    [Fact(Skip = Release)]
    public async Task A_synchronous_IOCTL_allocates_nothing_per_call_in_the_kernel()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        var input = new byte[16];
        var output = new byte[16];
        var bytes = await Measure(() => echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output));
        Assert.True(bytes <= Slack, $"{Calls} synchronous IOCTLs made the kernel allocate {bytes} bytes ({bytes / (double)Calls:F1} per call)");
    }

    [Fact(Skip = Release)]
    public async Task A_read_and_a_write_allocate_nothing_per_call_in_the_kernel()
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate);
        var message = new byte[16];
        var buffer = new byte[16];
        var bytes = await Measure(() =>
        {
            echo.Write(message);
            echo.Read(buffer);
        });
        Assert.True(bytes <= Slack, $"{Calls} writes and reads made the kernel allocate {bytes} bytes ({bytes / (double)Calls:F1} per pair)");
    }

    [Fact(Skip = Release)]
    public async Task A_wait_allocates_nothing_per_call_in_the_kernel()
    {
        using var signalled = KernelEvent.Create(manualReset: true, initialState: true, gate: fixture.Gate);
        using var unsignalled = KernelEvent.Create(manualReset: true, initialState: false, gate: fixture.Gate);
        var bytes = await Measure(() =>
        {
            signalled.Wait();
            // A wait that parks (and times out at once) takes the dispatcher's full path: wait blocks, clock, wake.
            unsignalled.Wait(TimeSpan.FromTicks(1));
        });
        Assert.True(bytes <= Slack, $"{Calls} waits made the kernel allocate {bytes} bytes ({bytes / (double)Calls:F1} per pair)");
    }

    /// <summary>The least the kernel allocated in any round, bounded in time.</summary>
    private Task<long> Measure(Action call) => Task.Run(() =>
    {
        for (var i = 0; i < WarmUp; i++) call();
        var least = long.MaxValue;
        for (var round = 0; round < Rounds && least > Slack; round++)
        {
            var before = KernelControl.QueryState(fixture.Gate).AllocatedBytes;
            for (var i = 0; i < Calls; i++) call();
            least = Math.Min(least, KernelControl.QueryState(fixture.Gate).AllocatedBytes - before);
        }
        return least;
    }).WaitAsync(Bound);
}
