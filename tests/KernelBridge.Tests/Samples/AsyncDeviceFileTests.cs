using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.EventSample;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Stack;

namespace KernelBridge.Tests.Samples;

/// <summary>
/// The idiomatic layer over overlapped I/O: DeviceFile.OpenOverlapped with IoControlAsync,
/// ReadAsync, WriteAsync and NotificationsAsync, and KernelEvent.WaitAsync. The promises are the
/// ones DESIGN.md makes ("blocking never holds a kernel thread", "the *Async methods complete
/// without a thread per request") and the doc comments make (cancelling the token is CancelIoEx on
/// the request and the task fails with STATUS_CANCELLED; errors throw NtStatusException with the
/// status, warnings come back in IoResult).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class AsyncDeviceFileTests(KernelFixture fixture)
{
    private static readonly uint ReturnBuffered = KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value;

    private static byte[] Request(int information, PendMode pend = PendMode.None, int delayMs = 0, uint status = WinValues.STATUS_SUCCESS,
        byte fill = 0x5A) =>
        StackTest.Input(new ReturnRequest((int)status, (int)status, information, pend, delayMs, fill, 8));

    private static Task<DeviceFile> OpenAsync(string tag, GateClient? gate = null) =>
        StackTest.Bounded(() => DeviceFile.OpenOverlapped(KbTest.Path(tag), gate: gate));

    private static async Task<T> Within<T>(ValueTask<T> task, TimeSpan? timeout = null) => await task.AsTask().WaitAsync(timeout ?? StackTest.Timeout);

    // ---- IoControlAsync ----

    [Fact]
    public async Task An_IOCTL_completed_in_the_dispatch_routine_completes_the_ValueTask_with_its_result()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        Assert.True(file.IsOverlapped);
        var output = new byte[8];
        // Submitted without waiting (the result comes back through the gate like a pended one's).
        var result = await Within(file.IoControlAsync(ReturnBuffered, Request(6), output));
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal(6, result.Information);
        Assert.False(result.IsPartial);
        Assert.Equal([0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0, 0], output);
    }

    [Fact]
    public async Task An_IOCTL_that_fails_at_once_faults_the_ValueTask_with_NtStatusException_and_the_status()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var pending = file.IoControlAsync(ReturnBuffered, Request(6, status: WinValues.STATUS_INVALID_PARAMETER), new byte[8]);
        var e = await Assert.ThrowsAsync<NtStatusException>(async () => await Within(pending));
        Assert.Equal(WinValues.STATUS_INVALID_PARAMETER, e.Status.Code);
        Assert.Equal(WinValues.ERROR_INVALID_PARAMETER, (uint)e.Win32Error);
    }

    [Fact]
    public async Task A_warning_is_not_an_exception_it_comes_back_as_a_partial_result_with_the_data()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var output = new byte[8];
        var result = await Within(file.IoControlAsync(ReturnBuffered, Request(4, status: WinValues.STATUS_BUFFER_OVERFLOW), output));
        Assert.Equal(WinValues.STATUS_BUFFER_OVERFLOW, result.Status.Code);
        Assert.True(result.IsPartial);
        Assert.Equal(4, result.Information);
        Assert.Equal([0x5A, 0x5A, 0x5A, 0x5A, 0, 0, 0, 0], output);
    }

    [Fact]
    public async Task An_IOCTL_that_pends_and_later_fails_throws_NtStatusException_with_that_status()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var pending = file.IoControlAsync(ReturnBuffered, Request(4, PendMode.CompleteLater, 200, WinValues.STATUS_INVALID_PARAMETER), new byte[8]);
        Assert.False(pending.IsCompleted);
        var e = await Assert.ThrowsAsync<NtStatusException>(() => pending.AsTask().WaitAsync(StackTest.Timeout));
        Assert.Equal(WinValues.STATUS_INVALID_PARAMETER, e.Status.Code);
    }

    [Fact]
    public async Task An_IOCTL_that_pends_completes_later_with_its_output_and_byte_count()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var output = new byte[8];
        var watch = Stopwatch.StartNew();
        var pending = file.IoControlAsync(ReturnBuffered, Request(5, PendMode.CompleteLater, 300, fill: 0x42), output);
        Assert.False(pending.IsCompleted);
        var result = await Within(pending);
        watch.Stop();
        Assert.True(watch.ElapsedMilliseconds >= 250, $"completed after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(5, result.Information);
        Assert.Equal([0x42, 0x42, 0x42, 0x42, 0x42, 0, 0, 0], output);
    }

    /// <summary>
    /// 200 IOCTLs parked in the driver at once, awaited: no thread waits for any of them (the
    /// thread pool does not grow by anything like 200), and all complete when the driver releases them.
    /// </summary>
    [Fact]
    public async Task Two_hundred_parked_IOCTLs_are_awaited_without_a_thread_each_and_all_complete_when_released()
    {
        const int count = 200;
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var threadsBefore = ThreadPool.ThreadCount;
        var outputs = Enumerable.Range(0, count).Select(_ => new byte[8]).ToArray();
        var tasks = new List<Task<IoResult>>(count);
        try
        {
            foreach (var output in outputs) tasks.Add(file.IoControlAsync(ReturnBuffered, Request(0, PendMode.Park, fill: 0x33), output).AsTask());
            Assert.True(await StackTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == count), $"the driver saw {KbTest.Counters(tag)}");
            await Task.Delay(200);
            Assert.DoesNotContain(tasks, t => t.IsCompleted);
            var threadsWhileParked = ThreadPool.ThreadCount;
            Assert.True(threadsWhileParked - threadsBefore < count / 2,
                $"the thread pool grew from {threadsBefore} to {threadsWhileParked} threads while {count} requests were parked");

            Assert.Equal(count, await StackTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 3)));
            var results = await Task.WhenAll(tasks).WaitAsync(StackTest.Timeout);
            Assert.All(results, r => Assert.Equal(3, r.Information));
            Assert.All(outputs, o => Assert.Equal([0x33, 0x33, 0x33, 0, 0, 0, 0, 0], o));
        }
        finally
        {
            StackTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(StackTest.Timeout));
        }
    }

    /// <summary>
    /// Cancelling the token is CancelIoEx on the request: the driver's cancel routine runs and the
    /// task fails with NtStatusException(STATUS_CANCELLED), not OperationCanceledException (as the
    /// doc comment says; KernelEvent.WaitAsync throws OperationCanceledException instead).
    ///
    /// The file is opened on a connection of the test's own, and the token is cancelled on a thread
    /// that uses that connection, so that a hang here cannot take the shared connection with it.
    /// </summary>
    [Fact]
    public async Task Cancelling_the_token_cancels_the_parked_IRP_and_the_task_fails_with_STATUS_CANCELLED()
    {
        var tag = KbTest.NewTag();
        var gate = GateClient.Connect(fixture.Instance, autoStart: false);
        DeviceFile? file = null;
        using var cts = new CancellationTokenSource();
        try
        {
            file = await OpenAsync(tag, gate);
            var pending = file.IoControlAsync(ReturnBuffered, Request(0, PendMode.Park), new byte[8], cts.Token).AsTask();
            Assert.True(await StackTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
            Assert.False(pending.IsCompleted);

            var canceller = StackTest.RunBlocking(gate, () =>
            {
                cts.Cancel();
                return true;
            });
            var finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(finished == pending,
                $"the task did not end within 10 s of the cancellation; the cancelling thread {(canceller.IsCompleted ? "returned" : "is still inside CancellationTokenSource.Cancel")}; "
                + $"the driver saw {await StackTest.Bounded(() => KbTest.Counters(tag))}");
            var e = await Assert.ThrowsAsync<NtStatusException>(() => pending);
            Assert.Equal(WinValues.STATUS_CANCELLED, e.Status.Code);
            Assert.Equal(WinValues.ERROR_OPERATION_ABORTED, (uint)e.Win32Error);
            Assert.True(await canceller.WaitAsync(StackTest.Timeout));
            Assert.Equal(1, (await StackTest.Bounded(() => KbTest.Counters(tag))).Cancels);
        }
        finally
        {
            StackTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            StackTest.DisposeGate(gate);
            StackTest.DisposeBounded(file);
        }
    }

    /// <summary>
    /// The same, with the token cancelled the ordinary way (CancelAfter: a timer thread that knows
    /// nothing of connections). CancelIoEx works from any thread of the process on Windows, so the
    /// request must be cancelled whichever connection the file was opened on.
    /// </summary>
    [Fact]
    public async Task Cancelling_the_token_from_any_thread_cancels_a_request_on_a_file_opened_on_another_connection()
    {
        var tag = KbTest.NewTag();
        var gate = GateClient.Connect(fixture.Instance, autoStart: false);
        DeviceFile? file = null;
        using var cts = new CancellationTokenSource();
        try
        {
            file = await OpenAsync(tag, gate);
            var pending = file.IoControlAsync(ReturnBuffered, Request(0, PendMode.Park), new byte[8], cts.Token).AsTask();
            Assert.True(await StackTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
            cts.CancelAfter(TimeSpan.FromMilliseconds(50));
            var finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
            Assert.True(finished == pending,
                $"the token was cancelled but the request is still parked 5 s later: the driver saw {await StackTest.Bounded(() => KbTest.Counters(tag))}");
            var e = await Assert.ThrowsAsync<NtStatusException>(() => pending);
            Assert.Equal(WinValues.STATUS_CANCELLED, e.Status.Code);
        }
        finally
        {
            StackTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            StackTest.DisposeBounded(file);
            StackTest.DisposeGate(gate);
        }
    }

    /// <summary>An already-cancelled token: the request is issued and cancelled at once; the driver's cancel routine runs.</summary>
    [Fact]
    public async Task An_already_cancelled_token_cancels_the_request_at_once()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        try
        {
            var pending = file.IoControlAsync(ReturnBuffered, Request(0, PendMode.Park), new byte[8], cts.Token).AsTask();
            var e = await Assert.ThrowsAsync<NtStatusException>(() => pending.WaitAsync(StackTest.Timeout));
            Assert.Equal(WinValues.STATUS_CANCELLED, e.Status.Code);
            var counters = await StackTest.Bounded(() => KbTest.Counters(tag));
            Assert.Equal(1, counters.Cancels);
            Assert.Equal(0, counters.Parked);
        }
        finally
        {
            StackTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
        }
    }

    // ---- ReadAsync / WriteAsync ----

    [Fact]
    public async Task WriteAsync_then_ReadAsync_round_trip_through_the_test_driver()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        var written = await Within(file.WriteAsync("round trip"u8.ToArray()));
        Assert.Equal(10, written.Information);
        var buffer = new byte[32];
        var read = await Within(file.ReadAsync(buffer));
        Assert.Equal(10, read.Information);
        Assert.Equal("round trip"u8.ToArray(), buffer[..10]);
    }

    [Fact]
    public async Task A_ReadAsync_the_driver_parks_completes_when_released()
    {
        var tag = KbTest.NewTag();
        using var file = await OpenAsync(tag);
        try
        {
            await StackTest.Bounded(() => file.IoControl(KbTestInterface.IOCTL_KBTEST_SET_RW, Request(0, PendMode.Park, fill: 0x77), []));
            var buffer = new byte[8];
            var pending = file.ReadAsync(buffer).AsTask();
            Assert.True(await StackTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the read was not parked");
            Assert.False(pending.IsCompleted);
            Assert.Equal(1, await StackTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 2)));
            var result = await pending.WaitAsync(StackTest.Timeout);
            Assert.Equal(2, result.Information);
            Assert.Equal([0x77, 0x77, 0, 0, 0, 0, 0, 0], buffer);
        }
        finally
        {
            StackTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
        }
    }

    // ---- NotificationsAsync on the event sample ----

    /// <summary>
    /// The inverted call as a stream: one IRP-based registration pended at a time, each completion a
    /// notification; cancelling the token cancels the pended one and ends the stream, well before
    /// its due time. (Own connection, cancelled on a thread that uses it, as above.)
    /// </summary>
    [Fact]
    public async Task NotificationsAsync_on_the_event_sample_yields_a_notification_per_due_time_and_ends_on_cancellation()
    {
        var baseline = await StackTest.Bounded(() => KernelControl.QueryState());
        var gate = GateClient.Connect(fixture.Instance, autoStart: false);
        DeviceFile? file = null;
        using var cts = new CancellationTokenSource();
        try
        {
            file = await StackTest.Bounded(() => DeviceFile.OpenOverlapped(EventSampleInterface.Win32Name, gate: gate));
            var due = TimeSpan.FromMilliseconds(400);
            var input = KbTest.Bytes(new RegisterEvent(NotifyType.IrpBased, 0, EventSampleInterface.RelativeDueTime(due)));
            var enumerator = file.NotificationsAsync(EventSampleInterface.IOCTL_REGISTER_EVENT.Value, input, 0, cts.Token).GetAsyncEnumerator();
            var received = 0;
            var watch = Stopwatch.StartNew();
            Task<long>? canceller = null;
            while (true)
            {
                var next = enumerator.MoveNextAsync().AsTask();
                if (await Task.WhenAny(next, Task.Delay(StackTest.Timeout)) != next)
                    Assert.Fail($"the stream neither yielded nor ended within {StackTest.Timeout.TotalSeconds} s after {received} notifications; "
                        + (canceller is null ? "the token was not cancelled yet"
                            : $"the token was cancelled and the cancelling thread {(canceller.IsCompleted ? "returned" : "is still inside CancellationTokenSource.Cancel")}"));
                if (!await next) break;
                Assert.Equal(0, enumerator.Current.Length);
                received++;
                if (received == 3)
                {
                    Assert.True(watch.ElapsedMilliseconds >= 3 * 350, $"three notifications in {watch.ElapsedMilliseconds} ms, due every {due.TotalMilliseconds} ms");
                    canceller = StackTest.RunBlocking(gate, () =>
                    {
                        Thread.Sleep(100);
                        var at = watch.ElapsedMilliseconds;
                        cts.Cancel();
                        return at;
                    });
                }
            }
            var endedAt = watch.ElapsedMilliseconds;
            await enumerator.DisposeAsync();
            Assert.Equal(3, received);
            Assert.NotNull(canceller);
            var cancelledAt = await canceller.WaitAsync(StackTest.Timeout);
            Assert.True(endedAt - cancelledAt < due.TotalMilliseconds, $"the stream ended {endedAt - cancelledAt} ms after the cancellation");
        }
        finally
        {
            StackTest.DisposeGate(gate);
            StackTest.DisposeBounded(file);
        }
        Assert.True(await StackTest.EventuallyAsync(() => EventSampleTests.SameCounts(baseline, KernelControl.QueryState())),
            $"before: {EventSampleTests.Describe(baseline)}; after: {EventSampleTests.Describe(KernelControl.QueryState())}");
    }

    // ---- KernelEvent.WaitAsync ----

    /// <summary>
    /// After awaiting a Bounded call the test runs on the dedicated thread that finished it, which
    /// exits soon; the kernel ends a wait whose thread exited (see the test below), so the other
    /// KernelEvent tests start their waits from a pool thread.
    /// </summary>
    private static async Task StayOnAPoolThread()
    {
        await Task.Yield();
        if (Thread.CurrentThread.IsThreadPoolThread) return;
        await Task.Run(() => { }).ConfigureAwait(false);
    }

    /// <summary>
    /// WaitAsync promises a wait without a thread: async code hops threads, and the thread that
    /// started the wait may be gone long before the event is set (a dedicated thread that finished,
    /// a pool thread the pool retired). The wait must still end when the event is set, not fail.
    /// </summary>
    [Fact]
    public async Task KernelEvent_WaitAsync_outlives_the_thread_that_started_it()
    {
        using var kernelEvent = await StackTest.Bounded(() => KernelEvent.Create(manualReset: true));
        // Started on a dedicated thread, which returns (and exits) at once.
        var waiting = await StackTest.RunBlocking(() => kernelEvent.WaitAsync(TimeSpan.FromSeconds(30))).WaitAsync(StackTest.Timeout);
        // The kernel notices exited threads every 2 s.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(waiting.IsFaulted, $"the wait failed when the thread that started it exited: {waiting.Exception?.InnerException?.Message}");
        Assert.False(waiting.IsCompleted, "the wait ended before the event was set");
        await StackTest.Bounded(() => kernelEvent.Set());
        Assert.True(await waiting.WaitAsync(StackTest.Timeout));
    }

    private static string NewEventName() => "kb-stack-test-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task KernelEvent_WaitAsync_completes_when_another_connection_sets_the_event()
    {
        var name = NewEventName();
        using var kernelEvent = await StackTest.Bounded(() => KernelEvent.Create(manualReset: false, name: name));
        await StayOnAPoolThread();
        var waiting = kernelEvent.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        using (var other = GateClient.Connect(fixture.Instance, autoStart: false))
        {
            using var opened = await StackTest.Bounded(() => KernelEvent.Open(name, gate: other));
            await StackTest.Bounded(() => opened.Set());
        }
        Assert.True(await waiting.WaitAsync(StackTest.Timeout));
        // A synchronization event: the satisfied wait reset it.
        Assert.False(await StackTest.Bounded(() => kernelEvent.Wait(TimeSpan.Zero)));
    }

    [Fact]
    public async Task KernelEvent_WaitAsync_times_out_with_false()
    {
        using var kernelEvent = await StackTest.Bounded(() => KernelEvent.Create(manualReset: true));
        await StayOnAPoolThread();
        var watch = Stopwatch.StartNew();
        Assert.False(await kernelEvent.WaitAsync(TimeSpan.FromMilliseconds(300)).WaitAsync(StackTest.Timeout));
        watch.Stop();
        Assert.True(watch.ElapsedMilliseconds >= 250, $"timed out after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Many_KernelEvent_WaitAsync_at_once_hold_no_thread_each_and_one_Set_of_a_manual_reset_event_ends_them_all()
    {
        const int count = 100;
        using var kernelEvent = await StackTest.Bounded(() => KernelEvent.Create(manualReset: true));
        await StayOnAPoolThread();
        var threadsBefore = ThreadPool.ThreadCount;
        var waits = Enumerable.Range(0, count).Select(_ => kernelEvent.WaitAsync(TimeSpan.FromSeconds(30))).ToList();
        await Task.Delay(300);
        Assert.DoesNotContain(waits, w => w.IsCompleted);
        Assert.True(ThreadPool.ThreadCount - threadsBefore < count / 4, $"the thread pool grew from {threadsBefore} to {ThreadPool.ThreadCount} threads");
        await StackTest.Bounded(() => kernelEvent.Set());
        var results = await Task.WhenAll(waits).WaitAsync(StackTest.Timeout);
        Assert.All(results, Assert.True);
    }

    /// <summary>
    /// Cancelling the token ends the kernel's wait (KbCancelWait): the task fails with
    /// OperationCanceledException for that token, and the parked wait is gone, so a later Set of a
    /// synchronization event is not consumed by it (a plain wait then finds the event set), and
    /// nothing is left behind in the kernel.
    /// </summary>
    [Fact]
    public async Task KernelEvent_WaitAsync_cancellation_ends_the_kernels_wait_without_leaking()
    {
        var baseline = await StackTest.Bounded(() => KernelControl.QueryState());
        using (var kernelEvent = await StackTest.Bounded(() => KernelEvent.Create(manualReset: false)))
        {
            using var cts = new CancellationTokenSource();
            await StayOnAPoolThread();
            var waiting = kernelEvent.WaitAsync(null, cts.Token);
            await Task.Delay(200);
            Assert.False(waiting.IsCompleted);
            await cts.CancelAsync();
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(StackTest.Timeout));
            Assert.Equal(cts.Token, e.CancellationToken);

            await StackTest.Bounded(() => kernelEvent.Set());
            Assert.True(await StackTest.Bounded(() => kernelEvent.Wait(TimeSpan.Zero)), "a cancelled wait still consumed the event's signal");
        }
        Assert.True(await StackTest.EventuallyAsync(() => EventSampleTests.SameCounts(baseline, KernelControl.QueryState())),
            $"before: {EventSampleTests.Describe(baseline)}; after: {EventSampleTests.Describe(KernelControl.QueryState())}");
    }
}
