using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// The shared-memory gate through a real kernel: a connection gets it when it asks (and the socket
/// gate when it does not), calls and results of every size travel right whichever way they go
/// (a ring record, or the socket behind a marker), in order, from many threads at once, blocking
/// and awaited alike.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class SharedGateTests(KernelFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static TheoryData<int> Sizes() => new(0, 1, 64, 4000, 64 * 1024 - 200, 64 * 1024 + 200, 130 * 1024, 300 * 1024);

    [Fact]
    public void A_connection_gets_the_gate_it_asks_for()
    {
        using var shared = GateClient.Connect(fixture.Instance, autoStart: false, GateFeatures.SharedMemory);
        using var socket = GateClient.Connect(fixture.Instance, autoStart: false, GateFeatures.None);
        Assert.True(shared.UsesSharedMemory);
        Assert.False(socket.UsesSharedMemory);
        Assert.Equal((GateSelection.FromEnvironment() & GateFeatures.SharedMemory) != 0, fixture.Gate.UsesSharedMemory);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Echo_of_every_size_comes_back_whole_on_both_gates(int size)
    {
        foreach (var features in new[] { GateFeatures.SharedMemory, GateFeatures.SharedMemory | GateFeatures.NoSpin, GateFeatures.None })
        {
            using var gate = GateClient.Connect(fixture.Instance, autoStart: false, features);
            using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
            var input = Pattern(size, seed: size);
            var output = new byte[size + 16];
            var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output);
            Assert.Equal(size, result.Information);
            Assert.True(input.AsSpan().SequenceEqual(output.AsSpan(0, size)), $"{features}: the echo of {size} bytes differs");
        }
    }

    /// <summary>
    /// Large and small calls interleaved from several threads: a small call sent after a large one
    /// (which travels by socket) must not overtake it, and every answer reaches its own caller.
    /// </summary>
    [Fact]
    public void Calls_from_many_threads_of_all_sizes_each_get_their_own_answer()
    {
        using var gate = GateClient.Connect(fixture.Instance, autoStart: false, GateFeatures.SharedMemory);
        Assert.True(gate.UsesSharedMemory);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            try
            {
                using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
                var random = new Random(t);
                for (var i = 0; i < 200; i++)
                {
                    var size = random.Next(10) == 0 ? random.Next(64 * 1024, 200 * 1024) : random.Next(0, 512);
                    var input = Pattern(size, seed: t * 1000 + i);
                    var output = new byte[size];
                    var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output);
                    if (result.Information != size || !input.AsSpan().SequenceEqual(output)) failures.Enqueue($"thread {t} call {i}: {size} bytes came back wrong");
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"thread {t}: {e}");
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        foreach (var thread in threads) Assert.True(thread.Join(Patience), "a caller never got its answers");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Awaited_calls_in_flight_together_complete_through_the_completion_ring()
    {
        using var gate = GateClient.Connect(fixture.Instance, autoStart: false, GateFeatures.SharedMemory);
        using var echo = DeviceFile.OpenOverlapped(EchoInterface.Win32Name, gate: gate);
        for (var round = 0; round < 20; round++)
        {
            var inputs = Enumerable.Range(0, 32).Select(i => Pattern(i * 37 + (i == 5 ? 150 * 1024 : 0), seed: round * 100 + i)).ToArray();
            var outputs = inputs.Select(input => new byte[input.Length]).ToArray();
            var tasks = inputs.Select((input, i) => echo.IoControlAsync(EchoInterface.IOCTL_ECHO_BUFFERED, input, outputs[i]).AsTask()).ToArray();
            var all = Task.WhenAll(tasks);
            Assert.Same(all, await Task.WhenAny(all, Task.Delay(Patience)));
            for (var i = 0; i < inputs.Length; i++)
            {
                Assert.Equal(inputs[i].Length, (await tasks[i]).Information);
                Assert.True(inputs[i].AsSpan().SequenceEqual(outputs[i]), $"round {round}, call {i}");
            }
        }
    }

    /// <summary>Opted in, an awaited request's continuation runs on the thread that read its result, not on the pool; results stay right.</summary>
    [Theory]
    [InlineData(GateFeatures.SharedMemory)]
    [InlineData(GateFeatures.None)]
    public async Task Inline_completions_run_continuations_on_the_gate_thread(GateFeatures features)
    {
        using var gate = GateClient.Connect(fixture.Instance, autoStart: false, features);
        gate.InlineCompletions = true;
        using var echo = DeviceFile.OpenOverlapped(EchoInterface.Win32Name, gate: gate);
        var pooled = 0;
        async Task<bool> Loop(int seed)
        {
            for (var i = 0; i < 50; i++)
            {
                var input = Pattern(64, seed * 1000 + i);
                var output = new byte[64];
                var result = await echo.IoControlAsync(EchoInterface.IOCTL_ECHO_BUFFERED, input, output);
                if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref pooled);
                if (result.Information != 64 || !input.AsSpan().SequenceEqual(output)) return false;
            }
            return true;
        }
        var loops = Task.WhenAll(Enumerable.Range(0, 32).Select(Loop));
        Assert.Same(loops, await Task.WhenAny(loops, Task.Delay(Patience)));
        Assert.All(await loops, Assert.True);
        Assert.Equal(0, pooled);
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>
/// One thread serves every shared-memory client; a driver that blocks in its dispatch routine
/// must not make the others wait for it: the poller's watchdog hands everyone else to a new poller.
/// </summary>
public sealed class SharedGatePollerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_driver_that_blocks_one_client_call_does_not_hold_up_the_other_clients()
    {
        const int BlockMs = 5000;
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("poller-watchdog"), "--persistent", "--driver", KernelProcess.TestDriverPath);
        using var blocked = GateClient.Connect(kernel.Instance, autoStart: false, GateFeatures.SharedMemory);
        using var other = GateClient.Connect(kernel.Instance, autoStart: false, GateFeatures.SharedMemory);
        Assert.True(blocked.UsesSharedMemory && other.UsesSharedMemory);
        using var file = DeviceFile.Open(KbTestInterface.Win32(KbTestInterface.ServiceName) + KbTest.NewTag(), gate: blocked);
        var input = KernelBridge.Tests.Gate.Support.RawIo.Bytes(new ReturnRequest(0, 0, 0, PendMode.BlockInDispatch, BlockMs, 0, 0));
        var blockedCall = Task.Factory.StartNew(() => file.IoControl(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input, []),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Once the driver holds the poller, the other client's calls go on (a new poller serves them).
        await Task.Delay(200);
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: other);
        for (var i = 0; i < 50; i++)
        {
            var output = new byte[4];
            Assert.Equal(4, echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "free"u8, output).Information);
        }
        Assert.False(blockedCall.IsCompleted, "the blocked call ended before the other client was served: the test proves nothing");
        Assert.Same(blockedCall, await Task.WhenAny(blockedCall, Task.Delay(Patience)));
        Assert.Equal(0, (await blockedCall).Information);
    }
}

/// <summary>KERNELBRIDGE_GATE and KERNELBRIDGE_SPIN: what each value asks for, and the message a bad one gets.</summary>
public sealed class GateSelectionTests
{
    [Theory]
    [InlineData(null, null, GateFeatures.SharedMemory)]
    [InlineData("", "", GateFeatures.SharedMemory)]
    [InlineData("shm", "1", GateFeatures.SharedMemory)]
    [InlineData(" SHM ", null, GateFeatures.SharedMemory)]
    [InlineData("shm", "0", GateFeatures.SharedMemory | GateFeatures.NoSpin)]
    [InlineData("socket", null, GateFeatures.None)]
    [InlineData("Socket", "0", GateFeatures.NoSpin)]
    public void Each_value_asks_for_its_gate(string? gate, string? spin, GateFeatures expected) =>
        Assert.Equal(expected, GateSelection.Parse(gate, spin));

    [Theory]
    [InlineData(null, false)]
    [InlineData("0", false)]
    [InlineData("1", true)]
    public void Inline_completions_are_off_unless_asked_for(string? value, bool expected) =>
        Assert.Equal(expected, GateSelection.ParseInlineCompletions(value));

    [Fact]
    public void A_bad_inline_completions_value_is_refused_by_name() =>
        Assert.Contains("KERNELBRIDGE_INLINE_COMPLETIONS='on'", Assert.Throws<ArgumentException>(() => GateSelection.ParseInlineCompletions("on")).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("pipe", null, "KERNELBRIDGE_GATE='pipe'")]
    [InlineData("shm", "yes", "KERNELBRIDGE_SPIN='yes'")]
    public void A_bad_value_is_refused_by_name(string? gate, string? spin, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => GateSelection.Parse(gate, spin));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
