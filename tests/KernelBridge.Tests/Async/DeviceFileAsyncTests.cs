using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// The idiomatic layer's overlapped I/O (DeviceFile.OpenOverlapped, IoControlAsync, ReadAsync,
/// WriteAsync, NotificationsAsync): the same Windows rules seen through ValueTask. Errors throw
/// NtStatusException, warnings come back as partial results, a token cancels the request
/// (CancelIoEx) and the task fails with STATUS_CANCELLED.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class DeviceFileAsyncTests(KernelFixture fixture)
{
    private static readonly TimeSpan Timeout = AsyncTest.Timeout;

    private static DeviceFile OpenOverlapped(string tag, GateClient? gate = null) => DeviceFile.OpenOverlapped(KbTest.Path(tag), gate: gate);

    private static byte[] Input(uint dispatch, uint iosb, long information = 3, PendMode pend = PendMode.None, int delayMs = 0, int fillLength = 6) =>
        AsyncTest.Input(AsyncTest.Request(dispatch, iosb, information, pend, delayMs, fillLength));

    [Fact]
    public async Task IoControlAsync_that_completes_at_once_completes_with_the_bytes()
    {
        var tag = KbTest.NewTag();
        using var file = OpenOverlapped(tag);
        Assert.True(file.IsOverlapped);
        var output = new byte[7];
        var result = await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(0, 0, 3), output).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal(3, result.Information);
        Assert.Equal("ggg\0\0\0\0"u8.ToArray(), output);
    }

    [Fact]
    public async Task IoControlAsync_waits_for_a_parked_request_without_blocking_and_returns_its_result()
    {
        var tag = KbTest.NewTag();
        using var file = OpenOverlapped(tag);
        var output = new byte[8];
        var task = file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 8), output)
            .AsTask();
        await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
        await Task.Delay(100);
        Assert.False(task.IsCompleted);
        Assert.Equal(1, await Task.Run(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 5)).WaitAsync(Timeout));
        var result = await task.WaitAsync(Timeout);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal(5, result.Information);
        Assert.Equal("ggggg\0\0\0"u8.ToArray(), output);
    }

    [Fact]
    public async Task A_warning_is_a_partial_result_and_an_error_throws_with_its_status()
    {
        var tag = KbTest.NewTag();
        using var file = OpenOverlapped(tag);
        var output = new byte[7];
        var partial = await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
            Input(W.STATUS_BUFFER_OVERFLOW, W.STATUS_BUFFER_OVERFLOW, 3), output);
        Assert.True(partial.IsPartial);
        Assert.Equal(3, partial.Information);

        var pendedPartial = await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
            Input(W.STATUS_PENDING, W.STATUS_BUFFER_OVERFLOW, 2, PendMode.CompleteLater, delayMs: 20), output).AsTask().WaitAsync(Timeout);
        Assert.True(pendedPartial.IsPartial);
        Assert.Equal(2, pendedPartial.Information);

        var error = await Assert.ThrowsAsync<NtStatusException>(async () =>
            await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(W.STATUS_NOT_IMPLEMENTED, W.STATUS_NOT_IMPLEMENTED, 0), output));
        Assert.Equal(NtStatus.STATUS_NOT_IMPLEMENTED, error.Status);

        var pendedError = await Assert.ThrowsAsync<NtStatusException>(async () =>
            await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
                Input(W.STATUS_PENDING, W.STATUS_NOT_IMPLEMENTED, 0, PendMode.CompleteLater, delayMs: 20), output).AsTask().WaitAsync(Timeout));
        Assert.Equal(NtStatus.STATUS_NOT_IMPLEMENTED, pendedError.Status);
    }

    /// <summary>
    /// A connection of the test's own (another process, to the kernel), so that a connection that
    /// deadlocks takes no other test with it. A deadlocked connection is left alone (disposing it
    /// while its reader thread is stuck would let that thread resume on a disposed receiver and
    /// crash the test host); otherwise disposing closes the connection, then the files.
    /// </summary>
    private sealed class PrivateConnection(KernelFixture fixture) : IDisposable
    {
        private readonly List<DeviceFile> _files = [];
        private bool _abandoned;

        /// <summary>The connection is stuck: never touch it again.</summary>
        public void Abandon() => _abandoned = true;

        public GateClient Gate { get; } = GateClient.Connect(fixture.Instance, autoStart: false);

        public DeviceFile Open(string tag)
        {
            var file = OpenOverlapped(tag, Gate);
            _files.Add(file);
            return file;
        }

        public void Dispose()
        {
            if (_abandoned) return;
            Gate.Dispose();
            foreach (var file in _files) file.Dispose();
        }
    }

    /// <summary>
    /// Cancels <paramref name="cts"/> on a thread whose calls use <paramref name="gate"/> (token
    /// callbacks run on the cancelling thread); false if Cancel did not return in time.
    /// </summary>
    private static async Task<bool> CancelFrom(GateClient gate, CancellationTokenSource cts, PrivateConnection connection, TimeSpan? timeout = null)
    {
        var cancel = AsyncTest.OnNewThread(() =>
        {
            using (GateClient.Use(gate)) cts.Cancel();
            return true;
        }, "canceller");
        var returned = await Task.WhenAny(cancel, Task.Delay(timeout ?? TimeSpan.FromSeconds(3))) == cancel;
        if (!returned) connection.Abandon();
        return returned;
    }

    private const string Deadlock =
        "CancellationTokenSource.Cancel did not return: the token callback (NtCancelIoFileEx) waits for its reply while the gate's reader thread, "
        + "delivering the cancelled request's completion, waits in AsyncIo.OnCompleted for that callback (CancellationTokenRegistration.Dispose)";

    [Fact]
    public async Task Cancelling_the_token_cancels_the_request_and_the_task_fails_with_STATUS_CANCELLED()
    {
        var tag = KbTest.NewTag();
        using var connection = new PrivateConnection(fixture);
        var file = connection.Open(tag);
        using var cts = new CancellationTokenSource();
        var task = file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0),
            Memory<byte>.Empty, cts.Token).AsTask();
        try
        {
            await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
            Assert.True(await CancelFrom(connection.Gate, cts, connection), Deadlock);
            var error = await Assert.ThrowsAsync<NtStatusException>(() => task.WaitAsync(Timeout));
            Assert.Equal(NtStatus.STATUS_CANCELLED, error.Status);
            Assert.Equal(1, KbTest.Counters(tag).Cancels);
        }
        finally
        {
            await Task.Run(() => AsyncTest.ReleaseQuietly(tag));
        }
    }

    [Fact]
    public async Task Cancelling_the_token_of_a_request_on_another_connection_cancels_it_there()
    {
        // A DeviceFile opened on another gate (another process, to the kernel): its handle means
        // something only on that connection, so the cancellation must travel there, whichever
        // thread cancels the token.
        var tag = KbTest.NewTag();
        using var connection = new PrivateConnection(fixture);
        var file = connection.Open(tag);
        using var cts = new CancellationTokenSource();
        var task = file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0),
            Memory<byte>.Empty, cts.Token).AsTask();
        try
        {
            await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
            // A thread on the default connection cancels.
            Assert.True(await CancelFrom(fixture.Gate, cts, connection), Deadlock);
            var ended = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(3))) == task;
            Assert.True(ended, $"cancelling the token did not cancel the request issued on the other connection; counters: {KbTest.Counters(tag)}");
            var error = await Assert.ThrowsAsync<NtStatusException>(() => task);
            Assert.Equal(NtStatus.STATUS_CANCELLED, error.Status);
        }
        finally
        {
            await Task.Run(() => AsyncTest.ReleaseQuietly(tag));
        }
    }

    [Fact]
    public async Task A_token_given_to_a_request_that_completed_cannot_cancel_a_later_request()
    {
        // The request's cancellation must end with the request: a token registration left behind on
        // a pooled request object must not cancel whatever request reuses it later.
        var tag = KbTest.NewTag();
        using var connection = new PrivateConnection(fixture);
        var file = connection.Open(tag);
        try
        {
            for (var round = 0; round < 100; round++)
            {
                using var cts = new CancellationTokenSource();
                // Pends, and completes at once from the driver's side: the completion races the reply.
                await file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
                    Input(W.STATUS_PENDING, 0, 0, PendMode.CompleteLater, delayMs: 0), Memory<byte>.Empty, cts.Token).AsTask().WaitAsync(Timeout);

                var later = file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, Input(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0),
                    Memory<byte>.Empty).AsTask();
                await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
                var cancelReturned = await CancelFrom(connection.Gate, cts, connection);
                Assert.True(cancelReturned, $"round {round}: cancelling a completed request's token hung ({Deadlock}); counters: {KbTest.Counters(tag)}");
                await Task.Run(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 0)).WaitAsync(Timeout);
                try
                {
                    await later.WaitAsync(Timeout);
                }
                catch (NtStatusException e)
                {
                    Assert.Fail($"round {round}: an earlier request's token cancelled a later request ({e.Status}); counters: {KbTest.Counters(tag)}");
                }
            }
        }
        finally
        {
            await Task.Run(() => AsyncTest.ReleaseQuietly(tag));
        }
    }

    [Fact]
    public async Task WriteAsync_and_ReadAsync_at_an_offset_and_end_of_file_reads_nothing()
    {
        var tag = KbTest.NewTag();
        using var file = OpenOverlapped(tag);
        var written = await file.WriteAsync("abc"u8.ToArray(), offset: 0);
        Assert.Equal(3, written.Information);
        var buffer = new byte[3];
        var read = await file.ReadAsync(buffer, offset: 0);
        Assert.Equal(3, read.Information);
        Assert.Equal("abc"u8.ToArray(), buffer);

        await Task.Run(() => AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_END_OF_FILE, W.STATUS_END_OF_FILE, 0)));
        var eof = await file.ReadAsync(buffer, offset: 3);
        Assert.Equal(0, eof.Information);

        await Task.Run(() => AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, 0, 2, PendMode.CompleteLater, delayMs: 20, fillLength: 2)));
        var pended = await file.ReadAsync(buffer, offset: 0).AsTask().WaitAsync(Timeout);
        Assert.Equal(2, pended.Information);
        Assert.Equal((byte)'g', buffer[0]);
    }

    [Fact]
    public async Task NotificationsAsync_yields_each_completion_and_ends_when_cancelled()
    {
        var tag = KbTest.NewTag();
        using var connection = new PrivateConnection(fixture);
        var file = connection.Open(tag);
        using var cts = new CancellationTokenSource();
        var received = new List<int>();
        var stream = Task.Run(async () =>
        {
            await foreach (var item in file.NotificationsAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value,
                Input(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 4), 4, cts.Token))
            {
                lock (received) received.Add(item.Length);
            }
        });
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
                Assert.Equal(1, await Task.Run(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, i)).WaitAsync(Timeout));
                var expected = i;
                Assert.True(await Task.Run(() => KbTest.Eventually(() =>
                {
                    lock (received) return received.Count == expected;
                })).WaitAsync(Timeout));
            }
            await Task.Run(() => AsyncTest.WaitParked(tag, 1)).WaitAsync(Timeout);
            Assert.True(await CancelFrom(connection.Gate, cts, connection), Deadlock);
            await stream.WaitAsync(Timeout);
            Assert.Equal([1, 2, 3], received);
            Assert.Equal(1, KbTest.Counters(tag).Cancels);
        }
        finally
        {
            await Task.Run(() => AsyncTest.ReleaseQuietly(tag));
        }
    }
}
