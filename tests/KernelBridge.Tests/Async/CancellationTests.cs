using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// Cancellation and cleanup (issue3-facts section 5): CancelIo (this thread's requests on the file,
/// waits for them), CancelIoEx (the process's, one OVERLAPPED or all, does not wait, ERROR_NOT_FOUND
/// when there is nothing), CancelSynchronousIo, closing the last handle (IRP_MJ_CLEANUP; the I/O
/// manager does not cancel), thread exit. Sources: WRK NtCancelIoFile / IoCancelThreadIo /
/// IopCloseFile, Wine ntoskrnl.c test_overlapped and ntdll/tests/pipe.c, Microsoft docs.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class CancellationTests
{
    [Fact]
    public void CancelIo_runs_both_cancel_routines_and_returns_after_both_completed_with_STATUS_CANCELLED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev1 = AsyncTest.NewEvent();
        var ev2 = AsyncTest.NewEvent();
        using var ov1 = new Native<OVERLAPPED>();
        using var ov2 = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.Associate(file, port);
            ov1.Value.hEvent = ev1;
            ov2.Value.hEvent = ev2;
            Assert.False(AsyncTest.IssueParked(file, ov1.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            Assert.False(AsyncTest.IssueParked(file, ov2.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            AsyncTest.WaitParked(tag, 2);

            Assert.True(Kernel32.CancelIo(file), $"CancelIo: {Kernel32.GetLastError()}");
            // Both completed before CancelIo returned.
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov1.Value.Internal);
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov2.Value.Internal);
            Assert.Equal(0, (int)ov1.Value.InternalHigh);
            var counters = KbTest.Counters(tag);
            Assert.Equal(2, counters.Cancels);
            Assert.Equal(0, counters.Parked);
            Assert.True(AsyncTest.IsSignalled(ev1));
            Assert.True(AsyncTest.IsSignalled(ev2));

            uint n = AsyncTest.SentinelBytes;
            Assert.False(Kernel32.GetOverlappedResult(file, ov1.Pointer, &n, false));
            Assert.Equal(W.ERROR_OPERATION_ABORTED, Kernel32.GetLastError());
            Assert.Equal(0u, n);

            // A pending async request that is cancelled still delivers its packet, carrying the status.
            var seen = new HashSet<nint>();
            for (var i = 0; i < 2; i++)
            {
                uint count = 9;
                nuint key = 0;
                OVERLAPPED* dequeued = null;
                Assert.False(Kernel32.GetQueuedCompletionStatus(port, &count, &key, &dequeued, 5_000));
                Assert.Equal(W.ERROR_OPERATION_ABORTED, Kernel32.GetLastError());
                Assert.Equal(AsyncTest.Key, key);
                Assert.Equal(0u, count);
                seen.Add((nint)dequeued);
            }
            Assert.Equal(new HashSet<nint> { (nint)ov1.Pointer, (nint)ov2.Pointer }, seen);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(ev1);
            AsyncTest.Close(ev2);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void CancelIo_waits_for_a_request_the_driver_does_not_cancel_to_complete()
    {
        // WRK NtCancelIoFile: after IoCancelIrp, it waits until the thread's IRPs for the file are gone.
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        try
        {
            var pointer = ov.Pointer;
            var (issued, cancelled, elapsed, completedAtReturn, status) = AsyncTest.Bounded(() =>
            {
                uint bytes = 0;
                var result = AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 2, PendMode.CompleteLater, delayMs: 700),
                    null, 0, &bytes, pointer);
                var watch = Stopwatch.StartNew();
                var ok = Kernel32.CancelIo(file);
                return (result, ok, watch.ElapsedMilliseconds, Kernel32.HasOverlappedIoCompleted(pointer), (uint)pointer->Internal);
            });
            Assert.False(issued);
            Assert.True(cancelled);
            Assert.True(completedAtReturn, $"CancelIo returned after {elapsed} ms with the request still pending");
            Assert.True(elapsed >= 300, $"CancelIo returned after {elapsed} ms, before the request completed");
            // The driver had no cancel routine: the request ran to its own end.
            Assert.Equal(W.STATUS_SUCCESS, status);
        }
        finally
        {
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelIo_leaves_another_threads_requests_alone()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var theirs = new Native<OVERLAPPED>();
        using var mine = new Native<OVERLAPPED>();
        using var done = new ManualResetEventSlim();
        try
        {
            var pointer = theirs.Pointer;
            var issued = new ManualResetEventSlim();
            // The other thread issues its request and stays alive (a thread's exit would cancel it).
            var other = AsyncTest.OnNewThread(() =>
            {
                var result = AsyncTest.IssueParked(file, pointer);
                issued.Set();
                done.Wait(AsyncTest.Timeout);
                return result;
            }, "other issuer");
            Assert.True(issued.Wait(AsyncTest.Timeout));
            AsyncTest.WaitParked(tag, 1);

            // Nothing of this thread's: still TRUE.
            Assert.True(Kernel32.CancelIo(file));
            Assert.Equal(W.STATUS_PENDING, (uint)theirs.Value.Internal);

            Assert.False(AsyncTest.IssueParked(file, mine.Pointer));
            AsyncTest.WaitParked(tag, 2);
            Assert.True(Kernel32.CancelIo(file));
            Assert.Equal(W.STATUS_CANCELLED, (uint)mine.Value.Internal);
            Assert.Equal(W.STATUS_PENDING, (uint)theirs.Value.Internal);
            var counters = KbTest.Counters(tag);
            Assert.Equal(1, counters.Cancels);
            Assert.Equal(1, counters.Parked);

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 1));
            Assert.True(KbTest.Eventually(() => Kernel32.HasOverlappedIoCompleted(theirs.Pointer)));
            Assert.Equal(0, (int)theirs.Value.Internal);
            done.Set();
            Assert.False(AsyncTest.Await(other));
        }
        finally
        {
            done.Set();
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelIoEx_with_an_OVERLAPPED_cancels_only_that_request()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov1 = new Native<OVERLAPPED>();
        using var ov2 = new Native<OVERLAPPED>();
        try
        {
            Assert.False(AsyncTest.IssueParked(file, ov1.Pointer));
            Assert.False(AsyncTest.IssueParked(file, ov2.Pointer));
            AsyncTest.WaitParked(tag, 2);

            Assert.True(Kernel32.CancelIoEx(file, ov2.Pointer), $"CancelIoEx: {Kernel32.GetLastError()}");
            Assert.True(KbTest.Eventually(() => Kernel32.HasOverlappedIoCompleted(ov2.Pointer)));
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov2.Value.Internal);
            Assert.Equal(W.STATUS_PENDING, (uint)ov1.Value.Internal);
            var counters = KbTest.Counters(tag);
            Assert.Equal(1, counters.Cancels);
            Assert.Equal(1, counters.Parked);

            // That request is gone now: cancelling it again finds nothing.
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelIoEx(file, ov2.Pointer));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelIoEx_without_an_OVERLAPPED_cancels_every_request_on_the_file_from_any_thread()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var other = AsyncTest.OpenOverlapped(tag);
        using var ov1 = new Native<OVERLAPPED>();
        using var ov2 = new Native<OVERLAPPED>();
        using var ov3 = new Native<OVERLAPPED>();
        using var done = new ManualResetEventSlim();
        try
        {
            var pointer = ov2.Pointer;
            var issued = new ManualResetEventSlim();
            var thread = AsyncTest.OnNewThread(() =>
            {
                var result = AsyncTest.IssueParked(file, pointer);
                issued.Set();
                done.Wait(AsyncTest.Timeout);
                return result;
            });
            Assert.True(issued.Wait(AsyncTest.Timeout));
            Assert.False(AsyncTest.IssueParked(file, ov1.Pointer));
            // Another file object of the same tag: not this file's request.
            Assert.False(AsyncTest.IssueParked(other, ov3.Pointer));
            AsyncTest.WaitParked(tag, 3);

            Assert.True(Kernel32.CancelIoEx(file, null), $"CancelIoEx: {Kernel32.GetLastError()}");
            Assert.True(KbTest.Eventually(() => Kernel32.HasOverlappedIoCompleted(ov1.Pointer) && Kernel32.HasOverlappedIoCompleted(ov2.Pointer)));
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov1.Value.Internal);
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov2.Value.Internal);
            Assert.Equal(W.STATUS_PENDING, (uint)ov3.Value.Internal);
            Assert.Equal(2, KbTest.Counters(tag).Cancels);
            done.Set();
            AsyncTest.Await(thread);
        }
        finally
        {
            done.Set();
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(file);
            AsyncTest.Close(other);
        }
    }

    [Fact]
    public void CancelIoEx_with_nothing_pending_is_ERROR_NOT_FOUND_and_leaves_the_IOSB_alone()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        try
        {
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelIoEx(file, null));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelIoEx(file, ov.Pointer));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());

            var iosb = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
            Assert.Equal(W.STATUS_NOT_FOUND, Ntdll.NtCancelIoFileEx(file, null, &iosb).Code);
            Assert.Equal(AsyncTest.SentinelStatus, iosb.Status);
            Assert.Equal(AsyncTest.SentinelInformation, iosb.Information);
        }
        finally
        {
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelIoEx_does_not_wait_for_the_request_to_complete()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            ov.Value.hEvent = ev;
            uint bytes = 0;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 2, PendMode.CompleteLater, delayMs: 1_000),
                null, 0, &bytes, ov.Pointer));
            var watch = Stopwatch.StartNew();
            Assert.True(Kernel32.CancelIoEx(file, ov.Pointer), $"CancelIoEx: {Kernel32.GetLastError()}");
            var elapsed = watch.ElapsedMilliseconds;
            var pendingAtReturn = !Kernel32.HasOverlappedIoCompleted(ov.Pointer);
            if (elapsed < 700) Assert.True(pendingAtReturn, $"CancelIoEx returned after {elapsed} ms with the request already complete");
            Assert.True(AsyncTest.WaitSignalled(ev));
            Assert.Equal(W.STATUS_SUCCESS, (uint)ov.Value.Internal);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_cancelled_request_with_an_event_and_an_APC_writes_the_IOSB_signals_the_event_and_runs_the_APC_once_in_an_alertable_wait()
    {
        // ntdll/tests/pipe.c: after NtCancelIoFileEx, IOSB = {STATUS_CANCELLED, 0}, the event is set,
        // and the APC runs only at the next alertable wait, once.
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.DrainApcs();
            Assert.Equal(W.STATUS_PENDING, AsyncTest.NtReturnIoctl(file, ev, ApcRecorder.Routine, 77, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0), null, 0));
            AsyncTest.WaitParked(tag, 1);
            var cancelIosb = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus };
            Assert.Equal(W.STATUS_SUCCESS, Ntdll.NtCancelIoFileEx(file, iosb.Pointer, &cancelIosb).Code);
            Assert.Equal(0, cancelIosb.Status);
            Assert.True(AsyncTest.WaitSignalled(ev));
            Assert.Equal(W.STATUS_CANCELLED, (uint)iosb.Value.Status);
            Assert.Equal((nuint)0, iosb.Value.Information);
            Assert.Empty(ApcRecorder.Snapshot());

            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            var call = Assert.Single(ApcRecorder.Snapshot());
            Assert.Equal(77, call.ApcContext);
            Assert.Equal((nint)iosb.Pointer, call.IoStatusBlock);
            Assert.Equal(W.STATUS_CANCELLED, (uint)call.IosbStatus);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Single(ApcRecorder.Snapshot());
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.DrainApcs();
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelSynchronousIo_ends_a_thread_blocked_in_a_synchronous_IOCTL_with_ERROR_OPERATION_ABORTED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenSynchronous(tag);
        var thread = (nint)0;
        try
        {
            var id = new TaskCompletionSource<uint>();
            var blocked = AsyncTest.OnNewThread(() =>
            {
                id.SetResult(Kernel32.GetCurrentThreadId());
                uint bytes = AsyncTest.SentinelBytes;
                var ok = AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0), null, 0, &bytes, null);
                return (ok, Kernel32.GetLastError(), bytes);
            }, "blocked");
            var tid = AsyncTest.Await(id.Task);
            AsyncTest.WaitParked(tag, 1);
            Assert.False(blocked.IsCompleted);

            thread = Kernel32.OpenThread(W.THREAD_TERMINATE, false, tid);
            Assert.True(thread != 0, $"OpenThread: {Kernel32.GetLastError()}");
            Assert.True(Kernel32.CancelSynchronousIo(thread), $"CancelSynchronousIo: {Kernel32.GetLastError()}");
            var (ok, error, bytes) = AsyncTest.Await(blocked);
            Assert.False(ok);
            Assert.Equal(W.ERROR_OPERATION_ABORTED, error);
            Assert.Equal(AsyncTest.SentinelBytes, bytes);
            Assert.Equal(1, KbTest.Counters(tag).Cancels);

            // Nothing left to cancel on that thread.
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelSynchronousIo(thread));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(thread);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void CancelSynchronousIo_with_no_synchronous_IO_is_ERROR_NOT_FOUND_and_writes_STATUS_NOT_FOUND_into_the_IOSB()
    {
        var thread = Kernel32.OpenThread(W.THREAD_TERMINATE, false, Kernel32.GetCurrentThreadId());
        try
        {
            Assert.True(thread != 0, $"OpenThread: {Kernel32.GetLastError()}");
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelSynchronousIo(thread));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());

            var iosb = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
            Assert.Equal(W.STATUS_NOT_FOUND, Ntdll.NtCancelSynchronousIoFile(thread, null, &iosb).Code);
            Assert.Equal(W.STATUS_NOT_FOUND, (uint)iosb.Status);
            Assert.Equal((nuint)0, iosb.Information);
        }
        finally
        {
            AsyncTest.Close(thread);
        }
    }

    [Fact]
    public void CancelSynchronousIo_needs_THREAD_TERMINATE()
    {
        var thread = Kernel32.OpenThread(W.THREAD_SET_CONTEXT, false, Kernel32.GetCurrentThreadId());
        try
        {
            Assert.True(thread != 0, $"OpenThread: {Kernel32.GetLastError()}");
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelSynchronousIo(thread));
            Assert.Equal(5u, Kernel32.GetLastError()); // ERROR_ACCESS_DENIED
        }
        finally
        {
            AsyncTest.Close(thread);
        }
    }

    [Fact]
    public void CancelSynchronousIo_does_not_touch_an_overlapped_request_pending_on_that_thread()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var thread = Kernel32.OpenThread(W.THREAD_TERMINATE, false, Kernel32.GetCurrentThreadId());
        using var ov = new Native<OVERLAPPED>();
        try
        {
            Assert.False(AsyncTest.IssueParked(file, ov.Pointer));
            AsyncTest.WaitParked(tag, 1);
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.CancelSynchronousIo(thread));
            Assert.Equal(W.ERROR_NOT_FOUND, Kernel32.GetLastError());
            Assert.Equal(W.STATUS_PENDING, (uint)ov.Value.Internal);
            Assert.Equal(0, KbTest.Counters(tag).Cancels);
            Assert.True(Kernel32.CancelIo(file));
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov.Value.Internal);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(thread);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void Closing_the_last_handle_sends_CLEANUP_but_does_not_cancel_the_parked_IRP_and_CLOSE_comes_after_its_completion()
    {
        // WRK IopCloseFile / irp-mj-cleanup.md: the I/O manager sends IRP_MJ_CLEANUP and leaves the
        // pending IRPs to the driver (the test driver's cleanup does not cancel them); the IRP holds a
        // reference on the file, so IRP_MJ_CLOSE only comes once it has completed.
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        var closed = false;
        try
        {
            ov.Value.hEvent = ev;
            Assert.False(AsyncTest.IssueParked(file, ov.Pointer));
            AsyncTest.WaitParked(tag, 1);
            Assert.True(Kernel32.CloseHandle(file));
            closed = true;

            Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Cleanups == 1), $"no CLEANUP: {KbTest.Counters(tag)}");
            Thread.Sleep(200);
            var counters = KbTest.Counters(tag);
            Assert.Equal(0, counters.Cancels);
            Assert.Equal(1, counters.Parked);
            Assert.Equal(0, counters.Closes);
            Assert.Equal(W.STATUS_PENDING, (uint)ov.Value.Internal);

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 5));
            Assert.True(AsyncTest.WaitSignalled(ev), "the completion of a request whose handle was closed did not signal its event");
            Assert.Equal(0, (int)ov.Value.Internal);
            Assert.Equal(5, (int)ov.Value.InternalHigh);
            // Release opened (and closed) a handle of its own under the same tag: two files in all, both closed.
            Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Creates: 2, Closes: 2, OpenFiles: 0 }),
                $"no CLOSE after the IRP completed: {KbTest.Counters(tag)}");
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(ev);
            if (!closed) AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_threads_exit_cancels_the_overlapped_requests_it_issued()
    {
        // WRK PspExitThread -> IoCancelThreadIo: every IRP on the exiting thread's list is cancelled
        // (the handle here is not associated with a completion port).
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            ov.Value.hEvent = ev;
            var pointer = ov.Pointer;
            Assert.False(AsyncTest.Bounded(() => AsyncTest.IssueParked(file, pointer)));
            AsyncTest.WaitParked(tag, 1);
            // The issuing thread has ended.
            var cancelled = KbTest.Eventually(() => KbTest.Counters(tag).Cancels == 1, TimeSpan.FromSeconds(7));
            Assert.True(cancelled, $"the exited thread's IRP was not cancelled: {KbTest.Counters(tag)}");
            Assert.True(AsyncTest.WaitSignalled(ev));
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov.Value.Internal);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_threads_exit_leaves_its_requests_on_a_file_bound_to_a_completion_port_alone()
    {
        // Thread-agnostic I/O (Windows Internals, "I/O completion ports"): I/O on a file associated with
        // a port belongs to no thread, so the issuing thread's exit does not cancel it.
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.Associate(file, port);
            var pointer = ov.Pointer;
            Assert.False(AsyncTest.Bounded(() => AsyncTest.IssueParked(file, pointer)));
            AsyncTest.WaitParked(tag, 1);
            // Long enough for the kernel to notice the thread is gone (it looks every 2 s).
            Thread.Sleep(4_500);
            var counters = KbTest.Counters(tag);
            Assert.Equal(0, counters.Cancels);
            Assert.Equal(1, counters.Parked);

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 3));
            var packet = AsyncTest.Remove(port, 5_000);
            Assert.Equal(W.STATUS_SUCCESS, packet.Status);
            Assert.Equal((nint)ov.Pointer, packet.ApcContext);
            Assert.Equal(0, packet.IosbStatus);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }
}
