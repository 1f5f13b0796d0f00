using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// I/O completion ports (issue3-facts section 3): CreateIoCompletionPort, association rules,
/// GetQueuedCompletionStatus(Ex), PostQueuedCompletionStatus, FIFO packets, LIFO release of
/// waiters, the concurrency value, abandonment, NtQueryIoCompletion. Sources: Wine
/// dlls/kernelbase/sync.c, dlls/ntdll/tests/file.c (test_set_io_completion, test_file_io_completion),
/// Microsoft's CreateIoCompletionPort / GetQueuedCompletionStatus docs and "I/O Completion Ports".
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class CompletionPortTests
{
    private readonly record struct Dequeued(bool Ok, uint Error, uint Bytes, nuint Key, nint Overlapped, int ThreadId);

    /// <summary>GetQueuedCompletionStatus with sentinels in every output.</summary>
    private static Dequeued Gqcs(nint port, uint milliseconds)
    {
        uint bytes = AsyncTest.SentinelBytes;
        nuint key = 0x5555;
        var overlapped = (OVERLAPPED*)0x5555;
        Kernel32.SetLastError(AsyncTest.SentinelLastError);
        var ok = Kernel32.GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, milliseconds);
        return new Dequeued(ok, Kernel32.GetLastError(), bytes, key, (nint)overlapped, Environment.CurrentManagedThreadId);
    }

    [Fact]
    public void CreateIoCompletionPort_creates_a_port_and_associating_a_file_returns_that_port()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        try
        {
            Assert.Equal(port, Kernel32.CreateIoCompletionPort(file, port, 77, 0));

            // Created and associated in one call: a new port comes back.
            var tag2 = KbTest.NewTag();
            var file2 = AsyncTest.OpenOverlapped(tag2);
            var port2 = Kernel32.CreateIoCompletionPort(file2, 0, 88, 1);
            try
            {
                Assert.NotEqual(0, port2);
                Assert.NotEqual(port, port2);
                using var iosb = new Native<IO_STATUS_BLOCK>();
                Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file2, 0, 0, 99, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                    AsyncTest.Request(0, 0, 1), null, 0));
                var packet = AsyncTest.Remove(port2, 5_000);
                Assert.Equal(W.STATUS_SUCCESS, packet.Status);
                Assert.Equal(88, packet.Key);
                Assert.Equal(99, packet.ApcContext);
            }
            finally
            {
                AsyncTest.Close(file2);
                AsyncTest.Close(port2);
            }

            // The key is the one given at association, returned verbatim.
            using var iosb1 = new Native<IO_STATUS_BLOCK>();
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, 0, 0, 1, iosb1.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 1), null, 0));
            Assert.Equal(77, AsyncTest.Remove(port, 5_000).Key);
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Associating_a_file_twice_is_ERROR_INVALID_PARAMETER()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var other = AsyncTest.NewPort();
        try
        {
            AsyncTest.Associate(file, port);
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.Equal(0, Kernel32.CreateIoCompletionPort(file, port, 5, 0));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.Equal(0, Kernel32.CreateIoCompletionPort(file, other, 5, 0));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());

            // The first association still holds, with its key.
            using var iosb = new Native<IO_STATUS_BLOCK>();
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, 0, 0, 1, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 1), null, 0));
            Assert.Equal((nint)AsyncTest.Key, AsyncTest.Remove(port, 5_000).Key);
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(other, 0).Status);
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
            AsyncTest.Close(other);
        }
    }

    [Fact]
    public void A_synchronous_handle_cannot_be_associated_ERROR_INVALID_PARAMETER()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenSynchronous(tag);
        var port = AsyncTest.NewPort();
        try
        {
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.Equal(0, Kernel32.CreateIoCompletionPort(file, port, 1, 0));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.Equal(0, Kernel32.CreateIoCompletionPort(file, 0, 1, 0));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_existing_port_with_INVALID_HANDLE_VALUE_is_ERROR_INVALID_PARAMETER()
    {
        var port = AsyncTest.NewPort();
        try
        {
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.Equal(0, Kernel32.CreateIoCompletionPort(Kernel32.INVALID_HANDLE_VALUE, port, 1, 0));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_APC_routine_on_a_handle_associated_with_a_port_is_STATUS_INVALID_PARAMETER_and_reaches_no_driver()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.Associate(file, port);
            using var iosb = new Native<IO_STATUS_BLOCK>();
            iosb.Value = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
            var before = KbTest.Counters(tag).DeviceControls;
            Assert.Equal(W.STATUS_INVALID_PARAMETER, AsyncTest.NtReturnIoctl(file, 0, ApcRecorder.Routine, 5, iosb.Pointer,
                TransferMethod.METHOD_BUFFERED, AsyncTest.Request(0, 0, 1), null, 0));
            Assert.Equal(before, KbTest.Counters(tag).DeviceControls);
            Assert.Equal(AsyncTest.SentinelStatus, iosb.Value.Status);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Empty(ApcRecorder.Snapshot());
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void GetQueuedCompletionStatus_timing_out_is_FALSE_with_a_null_overlapped_and_WAIT_TIMEOUT()
    {
        var port = AsyncTest.NewPort();
        try
        {
            var zero = Gqcs(port, 0);
            Assert.False(zero.Ok);
            Assert.Equal(0, zero.Overlapped);
            Assert.Equal(W.WAIT_TIMEOUT, zero.Error);

            var waited = Gqcs(port, 50);
            Assert.False(waited.Ok);
            Assert.Equal(0, waited.Overlapped);
            Assert.Equal(W.WAIT_TIMEOUT, waited.Error);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void PostQueuedCompletionStatus_round_trips_bytes_key_and_overlapped()
    {
        var port = AsyncTest.NewPort();
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 77, 0xABC, (OVERLAPPED*)0x1230));
            var packet = Gqcs(port, 5_000);
            Assert.True(packet.Ok, $"GQCS failed: {packet.Error}");
            Assert.Equal(77u, packet.Bytes);
            Assert.Equal((nuint)0xABC, packet.Key);
            Assert.Equal(0x1230, packet.Overlapped);

            // A null overlapped is a packet too (TRUE, not a timeout).
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 0, 1, null));
            var empty = Gqcs(port, 5_000);
            Assert.True(empty.Ok);
            Assert.Equal(0, empty.Overlapped);
            Assert.Equal((nuint)1, empty.Key);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void NtSetIoCompletion_packets_come_back_verbatim()
    {
        var port = AsyncTest.NewPort();
        try
        {
            // Wine test_set_io_completion: status 789, Information 0x12345678_00000003 on 64-bit.
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(port, 0xCAFE, 0xBEEF, (NtStatus)789, unchecked((nuint)0x1234567800000003)));
            var packet = AsyncTest.Remove(port, 5_000);
            Assert.Equal(W.STATUS_SUCCESS, packet.Status);
            Assert.Equal(0xCAFE, packet.Key);
            Assert.Equal(0xBEEF, packet.ApcContext);
            Assert.Equal(789, packet.IosbStatus);
            Assert.Equal(unchecked((nuint)0x1234567800000003), packet.Information);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void A_failed_packet_is_FALSE_with_the_mapped_error_and_a_non_null_overlapped()
    {
        var port = AsyncTest.NewPort();
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(port, 3, 0x4440, NtStatus.STATUS_CANCELLED, 7));
            var packet = Gqcs(port, 5_000);
            Assert.False(packet.Ok);
            Assert.Equal(W.ERROR_OPERATION_ABORTED, packet.Error);
            Assert.Equal(0x4440, packet.Overlapped);
            Assert.Equal((nuint)3, packet.Key);
            Assert.Equal(7u, packet.Bytes);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Packets_are_FIFO_and_GetQueuedCompletionStatusEx_removes_several_at_once()
    {
        var port = AsyncTest.NewPort();
        var entries = new OVERLAPPED_ENTRY[8];
        try
        {
            for (uint i = 1; i <= 3; i++) Assert.True(Kernel32.PostQueuedCompletionStatus(port, i * 10, i, (OVERLAPPED*)(nint)(0x100 * i)));
            Assert.True(Ntdll.NtSetIoCompletion(port, 4, 0x400, NtStatus.STATUS_CANCELLED, 40).IsSuccess);
            Assert.Equal(4, AsyncTest.Depth(port));

            uint removed = 0;
            fixed (OVERLAPPED_ENTRY* pointer = entries)
            {
                Assert.True(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 2, &removed, 5_000, false), $"GQCSEx: {Kernel32.GetLastError()}");
                Assert.Equal(2u, removed);
                Assert.Equal((nuint)1, entries[0].lpCompletionKey);
                Assert.Equal(0x100, (nint)entries[0].lpOverlapped);
                Assert.Equal(10u, entries[0].dwNumberOfBytesTransferred);
                Assert.Equal((nuint)2, entries[1].lpCompletionKey);

                Assert.True(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 8, &removed, 5_000, false));
                Assert.Equal(2u, removed);
                Assert.Equal((nuint)3, entries[0].lpCompletionKey);
                Assert.Equal(30u, entries[0].dwNumberOfBytesTransferred);
                // A failed packet is an entry like the others: its status in Internal.
                Assert.Equal((nuint)4, entries[1].lpCompletionKey);
                Assert.Equal((nuint)W.STATUS_CANCELLED, entries[1].Internal);
                Assert.Equal(40u, entries[1].dwNumberOfBytesTransferred);

                Kernel32.SetLastError(AsyncTest.SentinelLastError);
                Assert.False(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 8, &removed, 0, false));
                Assert.Equal(W.WAIT_TIMEOUT, Kernel32.GetLastError());
            }
            Assert.Equal(0, AsyncTest.Depth(port));
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_alertable_GetQueuedCompletionStatusEx_returns_WAIT_IO_COMPLETION_after_running_a_queued_APC()
    {
        var port = AsyncTest.NewPort();
        try
        {
            AsyncTest.DrainApcs();
            var ran = new List<nint>();
            Assert.True(Kernel32.QueueUserAPC(data => ran.Add(data), Kernel32.GetCurrentThread(), 42));
            var entries = new OVERLAPPED_ENTRY[1];
            uint removed = 99;
            fixed (OVERLAPPED_ENTRY* pointer = entries)
            {
                // Not alertable: the APC waits, the call times out.
                Assert.False(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 0, false));
                Assert.Equal(W.WAIT_TIMEOUT, Kernel32.GetLastError());
                Assert.Empty(ran);

                Kernel32.SetLastError(AsyncTest.SentinelLastError);
                Assert.False(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 5_000, true));
                Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.GetLastError());
                Assert.Equal([42], ran);
                Assert.Equal(0u, removed);
            }
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_APC_queued_while_a_thread_waits_alertably_on_the_port_ends_the_wait()
    {
        var port = AsyncTest.NewPort();
        var thread = (nint)0;
        try
        {
            var ranOn = new List<int>();
            var id = new TaskCompletionSource<uint>();
            var waiting = AsyncTest.OnNewThread(() =>
            {
                id.SetResult(Kernel32.GetCurrentThreadId());
                var entries = new OVERLAPPED_ENTRY[1];
                uint removed = 7;
                fixed (OVERLAPPED_ENTRY* pointer = entries)
                {
                    var ok = Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 10_000, true);
                    return (ok, Kernel32.GetLastError(), removed, Environment.CurrentManagedThreadId);
                }
            });
            var tid = AsyncTest.Await(id.Task);
            Thread.Sleep(300);
            Assert.False(waiting.IsCompleted);
            thread = Kernel32.OpenThread(W.THREAD_SET_CONTEXT, false, tid);
            Assert.True(thread != 0, $"OpenThread failed: {Kernel32.GetLastError()}");
            Assert.True(Kernel32.QueueUserAPC(_ => ranOn.Add(Environment.CurrentManagedThreadId), thread, 0));
            var (ok, error, removed, waiterThread) = AsyncTest.Await(waiting);
            Assert.False(ok);
            Assert.Equal(W.WAIT_IO_COMPLETION, error);
            Assert.Equal(0u, removed);
            Assert.Equal([waiterThread], ranOn);
        }
        finally
        {
            AsyncTest.Close(thread);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void On_a_thread_not_yet_associated_a_queued_APC_comes_before_a_queued_packet_and_once_associated_the_packet_comes_first()
    {
        var port = AsyncTest.NewPort();
        try
        {
            AsyncTest.Bounded(() =>
            {
                var ran = 0;
                var entries = new OVERLAPPED_ENTRY[1];
                uint removed = 0;
                fixed (OVERLAPPED_ENTRY* pointer = entries)
                {
                    Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
                    Assert.True(Kernel32.QueueUserAPC(_ => ran++, Kernel32.GetCurrentThread(), 0));
                    // Not associated yet: the APC first (STATUS_USER_APC), and the packet stays.
                    Assert.False(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 0, true));
                    Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.GetLastError());
                    Assert.Equal(1, ran);
                    Assert.Equal(1, AsyncTest.Depth(port));
                    // This removal associates the thread.
                    Assert.True(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 0, true));
                    Assert.Equal(1u, removed);

                    // Associated: the packet first, the APC stays pending.
                    Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
                    Assert.True(Kernel32.QueueUserAPC(_ => ran++, Kernel32.GetCurrentThread(), 0));
                    Assert.True(Kernel32.GetQueuedCompletionStatusEx(port, pointer, 1, &removed, 0, true), $"GQCSEx: {Kernel32.GetLastError()}");
                    Assert.Equal((nuint)2, entries[0].lpCompletionKey);
                    Assert.Equal(1, ran);
                    Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
                    Assert.Equal(2, ran);
                }
                return 0;
            });
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Waiting_threads_are_released_LIFO_the_latest_waiter_gets_the_oldest_packet()
    {
        var port = AsyncTest.NewPort(2);
        try
        {
            var first = AsyncTest.OnNewThread(() => Gqcs(port, 10_000), "first waiter");
            Thread.Sleep(400);
            var second = AsyncTest.OnNewThread(() => Gqcs(port, 10_000), "second waiter");
            Thread.Sleep(400);
            Assert.False(first.IsCompleted || second.IsCompleted, "a waiter returned without a packet");

            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
            var latest = AsyncTest.Await(second);
            Assert.True(latest.Ok);
            Assert.Equal((nuint)1, latest.Key);
            Thread.Sleep(100);
            Assert.False(first.IsCompleted, "the first waiter got a packet meant for the latest one");

            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
            var earliest = AsyncTest.Await(first);
            Assert.True(earliest.Ok);
            Assert.Equal((nuint)2, earliest.Key);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Closing_the_port_while_a_thread_waits_is_FALSE_with_ERROR_ABANDONED_WAIT_0()
    {
        var port = AsyncTest.NewPort();
        var closed = false;
        try
        {
            var waiter = AsyncTest.OnNewThread(() => Gqcs(port, 10_000));
            Thread.Sleep(400);
            Assert.False(waiter.IsCompleted);
            Assert.True(Kernel32.CloseHandle(port));
            closed = true;
            var result = AsyncTest.Await(waiter);
            Assert.False(result.Ok);
            Assert.Equal(W.ERROR_ABANDONED_WAIT_0, result.Error);
            Assert.Equal(0, result.Overlapped);
        }
        finally
        {
            if (!closed) AsyncTest.Close(port);
        }
    }

    [Fact]
    public void With_concurrency_1_a_second_thread_gets_no_packet_while_the_first_has_not_come_back()
    {
        var port = AsyncTest.NewPort(1);
        var closed = false;
        using var comeBack = new ManualResetEventSlim();
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
            var gotFirst = new ManualResetEventSlim();
            var first = AsyncTest.OnNewThread(() =>
            {
                var one = Gqcs(port, 5_000);
                gotFirst.Set();
                // Running (not in a wait) until told to come back for more.
                comeBack.Wait(AsyncTest.Timeout);
                var two = Gqcs(port, 5_000);
                return (one, two);
            }, "first");
            Assert.True(gotFirst.Wait(AsyncTest.Timeout));

            var second = AsyncTest.OnNewThread(() => Gqcs(port, 10_000), "second");
            Thread.Sleep(300);
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
            Thread.Sleep(600);
            Assert.False(second.IsCompleted, "the second thread got a packet although one thread is already running for a port of concurrency 1");
            Assert.Equal(1, AsyncTest.Depth(port));

            // The first comes back: it takes the waiting packet itself.
            comeBack.Set();
            var (one, two) = AsyncTest.Await(first);
            Assert.True(one.Ok && one.Key == 1);
            Assert.True(two.Ok, $"the first thread's second GQCS failed with {two.Error}");
            Assert.Equal((nuint)2, two.Key);
            Assert.False(second.IsCompleted);

            Assert.True(Kernel32.CloseHandle(port));
            closed = true;
            var abandoned = AsyncTest.Await(second);
            Assert.False(abandoned.Ok);
            Assert.Equal(W.ERROR_ABANDONED_WAIT_0, abandoned.Error);
        }
        finally
        {
            comeBack.Set();
            if (!closed) AsyncTest.Close(port);
        }
    }

    [Fact]
    public void With_concurrency_1_a_thread_whose_GetQueuedCompletionStatus_timed_out_counts_as_running_again()
    {
        // WRK KeRemoveQueue (base/ntos/ke/queueobj.c): the thread's slot is given up on entry
        // (CurrentCount -= 1) and taken back on every way out: with an entry, on STATUS_TIMEOUT and on
        // STATUS_USER_APC (CurrentCount += 1). A thread that polled and went on running still counts.
        var port = AsyncTest.NewPort(1);
        var closed = false;
        using var comeBack = new ManualResetEventSlim();
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
            var polled = new ManualResetEventSlim();
            var first = AsyncTest.OnNewThread(() =>
            {
                var one = Gqcs(port, 5_000);
                var poll = Gqcs(port, 0);
                polled.Set();
                comeBack.Wait(AsyncTest.Timeout);
                var two = Gqcs(port, 2_000);
                return (one, poll, two);
            }, "first");
            Assert.True(polled.Wait(AsyncTest.Timeout));

            var second = AsyncTest.OnNewThread(() => Gqcs(port, 10_000), "second");
            Thread.Sleep(300);
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
            var secondGotIt = AsyncTest.EndsWithin(second, TimeSpan.FromMilliseconds(600));

            comeBack.Set();
            var (one, poll, two) = AsyncTest.Await(first);
            Assert.True(one.Ok);
            Assert.False(poll.Ok);
            Assert.Equal(W.WAIT_TIMEOUT, poll.Error);
            Assert.False(secondGotIt, "a second thread got a packet although the first (which only polled) is still running: concurrency 1 exceeded");
            Assert.True(two.Ok);
            Assert.Equal((nuint)2, two.Key);
            Assert.True(Kernel32.CloseHandle(port));
            closed = true;
            Assert.Equal(W.ERROR_ABANDONED_WAIT_0, AsyncTest.Await(second).Error);
        }
        finally
        {
            comeBack.Set();
            if (!closed) AsyncTest.Close(port);
        }
    }

    [Fact]
    public void With_concurrency_1_a_running_thread_that_blocks_on_something_else_lets_a_waiting_thread_have_the_packet()
    {
        // "I/O Completion Ports" (Microsoft docs): the system also lets a thread waiting in
        // GetQueuedCompletionStatus process a packet when another running thread associated with the
        // port enters a wait state for other reasons (KiActivateWaiterQueue in the WRK scheduler).
        var port = AsyncTest.NewPort(1);
        var ev = AsyncTest.NewEvent();
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
            var gotFirst = new ManualResetEventSlim();
            var first = AsyncTest.OnNewThread(() =>
            {
                var one = Gqcs(port, 5_000);
                gotFirst.Set();
                // Blocks in the kernel on something else.
                var wait = Kernel32.WaitForSingleObject(ev, 8_000);
                return (one, wait);
            }, "first");
            Assert.True(gotFirst.Wait(AsyncTest.Timeout));
            Thread.Sleep(300);

            var second = AsyncTest.OnNewThread(() => Gqcs(port, 5_000), "second");
            Thread.Sleep(300);
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
            var released = AsyncTest.EndsWithin(second, TimeSpan.FromSeconds(3));
            Kernel32.SetEvent(ev);
            AsyncTest.Await(first);
            Assert.True(released, "the waiting thread did not get the packet while the running thread was blocked elsewhere");
            var result = AsyncTest.Await(second);
            Assert.True(result.Ok);
            Assert.Equal((nuint)2, result.Key);
        }
        finally
        {
            Kernel32.SetEvent(ev);
            AsyncTest.Close(ev);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Closing_one_of_two_handles_to_the_port_does_not_abandon_its_waiters()
    {
        // WRK IopCloseIoCompletion runs the queue down only when the last handle closes.
        var port = AsyncTest.NewPort();
        nint duplicate = 0;
        try
        {
            Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), port, Kernel32.GetCurrentProcess(), out duplicate, 0, false,
                DuplicateOptions.DUPLICATE_SAME_ACCESS));
            var waiter = AsyncTest.OnNewThread(() => Gqcs(port, 10_000));
            Thread.Sleep(300);
            Assert.True(Kernel32.CloseHandle(port));
            port = 0;
            Thread.Sleep(300);
            Assert.False(waiter.IsCompleted, "closing one of two handles abandoned the wait");
            Assert.True(Kernel32.PostQueuedCompletionStatus(duplicate, 5, 5, null));
            var result = AsyncTest.Await(waiter);
            Assert.True(result.Ok, $"GQCS failed with {result.Error}");
            Assert.Equal((nuint)5, result.Key);
        }
        finally
        {
            AsyncTest.Close(port);
            AsyncTest.Close(duplicate);
        }
    }

    [Fact]
    public void A_thread_that_moves_to_another_port_frees_its_slot_on_the_first()
    {
        // "I/O Completion Ports": a thread stays associated with a port until it exits, specifies
        // another port, or the port closes. WRK KeRemoveQueue: on a new queue, the thread leaves the old
        // one and KiActivateWaiterQueue(OldQueue) lets a waiter there run.
        var first = AsyncTest.NewPort(1);
        var second = AsyncTest.NewPort();
        using var moveOn = new ManualResetEventSlim();
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(first, 1, 1, null));
            var dequeued = new ManualResetEventSlim();
            var mover = AsyncTest.OnNewThread(() =>
            {
                var one = Gqcs(first, 5_000);
                dequeued.Set();
                moveOn.Wait(AsyncTest.Timeout);
                // Waits on the other port (nothing comes): it no longer runs for the first.
                var other = Gqcs(second, 3_000);
                return (one, other);
            }, "mover");
            Assert.True(dequeued.Wait(AsyncTest.Timeout));

            var waiter = AsyncTest.OnNewThread(() => Gqcs(first, 8_000), "waiter");
            Thread.Sleep(300);
            Assert.True(Kernel32.PostQueuedCompletionStatus(first, 2, 2, null));
            Assert.False(AsyncTest.EndsWithin(waiter, TimeSpan.FromMilliseconds(400)), "concurrency 1 exceeded while the first thread was running");

            moveOn.Set();
            var released = AsyncTest.EndsWithin(waiter, TimeSpan.FromSeconds(2));
            AsyncTest.Await(mover);
            Assert.True(released, "the waiter was not released when the running thread moved to another port");
            var result = AsyncTest.Await(waiter);
            Assert.True(result.Ok);
            Assert.Equal((nuint)2, result.Key);
        }
        finally
        {
            moveOn.Set();
            AsyncTest.Close(first);
            AsyncTest.Close(second);
        }
    }

    [Fact]
    public void A_running_thread_that_exits_frees_its_slot()
    {
        // WRK KeTerminateThread: a thread processing a queue entry is removed from the queue and
        // another thread blocked on it is activated; the docs: the association lasts until the thread exits.
        var port = AsyncTest.NewPort(1);
        try
        {
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 1, 1, null));
            Assert.True(AsyncTest.Bounded(() => Gqcs(port, 5_000)).Ok);
            // That thread has ended, having dequeued.
            var waiter = AsyncTest.OnNewThread(() => Gqcs(port, 9_000), "waiter");
            Thread.Sleep(300);
            Assert.True(Kernel32.PostQueuedCompletionStatus(port, 2, 2, null));
            var result = AsyncTest.Await(waiter);
            Assert.True(result.Ok, $"the waiter never got the packet after the running thread exited (error {result.Error})");
            Assert.Equal((nuint)2, result.Key);
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void NtQueryIoCompletion_reports_the_queue_depth()
    {
        var port = AsyncTest.NewPort();
        try
        {
            Assert.Equal(0, AsyncTest.Depth(port));
            for (var i = 0; i < 3; i++) Assert.True(Kernel32.PostQueuedCompletionStatus(port, 0, (nuint)i, null));
            Assert.Equal(3, AsyncTest.Depth(port));
            Assert.True(Gqcs(port, 5_000).Ok);
            Assert.Equal(2, AsyncTest.Depth(port));
        }
        finally
        {
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_overlapped_request_that_pended_before_the_handle_was_closed_still_queues_its_packet()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var ov = new Native<OVERLAPPED>();
        var fileClosed = false;
        try
        {
            AsyncTest.Associate(file, port);
            Assert.False(AsyncTest.IssueParked(file, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            AsyncTest.WaitParked(tag, 1);
            Assert.True(Kernel32.CloseHandle(file));
            fileClosed = true;

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 4));
            var packet = AsyncTest.Remove(port, 5_000);
            Assert.Equal(W.STATUS_SUCCESS, packet.Status);
            Assert.Equal((nint)ov.Pointer, packet.ApcContext);
            Assert.Equal((nuint)4, packet.Information);
            Assert.Equal(0, (int)ov.Value.Internal);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            if (!fileClosed) AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }
}
