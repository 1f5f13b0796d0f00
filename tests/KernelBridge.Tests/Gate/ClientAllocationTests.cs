using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
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
/// The rest of the process is never quite silent (the test host, the kernel's log being read: a few
/// KB a second), so a round is measured again if it went over the slack; an allocation per call
/// shows in every round (the smallest object is 24 bytes: 480 KB per round).
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class ClientAllocationTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private const int Calls = 20_000;
    private const int WarmUp = 2_000;
    private const int Rounds = 5;

    /// <summary>Allowed per round whatever the number of calls: what the rest of the process allocates meanwhile.</summary>
    private const long Slack = 16 * 1024;

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

    /// <summary>The Win32 face on a connection the thread picked (GateClient.Use): DeviceIoControl, ReadFile, WriteFile, WaitForSingleObject.</summary>
    [Fact]
    public async Task The_Win32_face_allocates_nothing_per_call()
    {
        nint echo, signalled;
        using (GateClient.Use(fixture.Gate))
        {
            echo = Kernel32.CreateFile(EchoInterface.Win32Name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 0, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
            signalled = Kernel32.CreateEvent(0, manualReset: true, initialState: true, null);
        }
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, echo);
        Assert.NotEqual(0, signalled);
        var input = new byte[16];
        var output = new byte[16];
        var bytes = await Measure(() =>
        {
            using var scope = GateClient.Use(fixture.Gate);
            uint returned = 0;
            Kernel32.DeviceIoControl(echo, EchoInterface.IOCTL_ECHO_BUFFERED.Value, input, output, ref returned);
            Kernel32.WriteFile(echo, input, out _);
            Kernel32.ReadFile(echo, output, out _);
            Kernel32.WaitForSingleObject(signalled, Kernel32.INFINITE);
        });
        using (GateClient.Use(fixture.Gate))
        {
            Kernel32.CloseHandle(echo);
            Kernel32.CloseHandle(signalled);
        }
        Assert.True(bytes <= Slack, $"{Calls} rounds of four Win32 calls allocated {bytes} bytes ({bytes / (double)Calls:F1} per round)");
    }

    /// <summary>
    /// The driver returns STATUS_PENDING for every request and completes it from a pool thread: the
    /// kernel answers STATUS_PENDING at once and the result comes back as a completion notice.
    /// </summary>
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

    private static Task<long> Measure(Action call) => MeasureAsync(() =>
    {
        call();
        return default(ValueTask<IoResult>);
    });

    /// <summary>
    /// The least any round allocated, awaiting each call on a worker thread (off xunit's synchronization
    /// context: continuations run on the pool), bounded: a hung kernel fails the test, not the run.
    /// </summary>
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
