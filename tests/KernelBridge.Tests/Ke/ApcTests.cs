using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// User APCs: QueueUserAPC runs the routine only in an alertable wait of the target thread,
/// exactly once, all queued routines in FIFO order in one wait that then returns
/// WAIT_IO_COMPLETION; an alertable wait in progress is ended by a new APC; NtTestAlert delivers
/// them (MS docs QueueUserAPC and SleepEx; kernelbase sync.c; WRK ke/apcsup.c, ke/wait.c,
/// ps/psspnd.c NtTestAlert). Every test runs on a thread of its own so no APC outlives it.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class ApcTests
{
    private sealed class ApcLog
    {
        private readonly List<(nint Data, int ManagedThread, uint ThreadId)> _calls = [];

        public void Routine(nint data)
        {
            lock (_calls) _calls.Add((data, Environment.CurrentManagedThreadId, Kernel32.GetCurrentThreadId()));
        }

        public (nint Data, int ManagedThread, uint ThreadId)[] Calls
        {
            get
            {
                lock (_calls) return [.. _calls];
            }
        }

        public nint[] Data => Calls.Select(c => c.Data).ToArray();
    }

    [Fact]
    public void APCs_queued_to_the_current_thread_run_only_in_an_alertable_wait_once_each_in_FIFO_order()
    {
        var log = new ApcLog();
        KeTest.OnThread(() =>
        {
            for (var i = 1; i <= 3; i++) Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), i));
            Assert.Empty(log.Calls);

            // Neither a non-alertable sleep nor a non-alertable wait runs them.
            Assert.Equal(0u, Kernel32.SleepEx(0, false));
            Assert.Equal(0u, Kernel32.SleepEx(30, false));
            var unset = KeTest.Event(manualReset: true, initialState: false);
            try
            {
                Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObjectEx(unset, 30, false));
            }
            finally
            {
                KeTest.Close(unset);
            }
            Assert.Empty(log.Calls);

            // One alertable wait runs all three, in order, and reports WAIT_IO_COMPLETION.
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            Assert.Equal([1, 2, 3], log.Data);

            // They ran once: the next alertable wait finds nothing.
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Equal(3, log.Calls.Length);
        });
    }

    [Fact]
    public void An_alertable_SleepEx_with_APCs_queued_returns_at_once()
    {
        var log = new ApcLog();
        KeTest.OnThread(() =>
        {
            Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 5));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, Kernel32.SleepEx(10_000, true));
            Assert.True(clock.ElapsedMilliseconds < 5_000, $"SleepEx took {clock.ElapsedMilliseconds} ms");
            Assert.Equal([5], log.Data);
        });
    }

    [Fact]
    public void An_alertable_WaitForSingleObjectEx_with_APCs_queued_returns_WAIT_IO_COMPLETION_even_on_an_unsignalled_object()
    {
        var log = new ApcLog();
        var unset = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 1));
                Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 2));
                Assert.Equal(Kernel32.WAIT_IO_COMPLETION, Kernel32.WaitForSingleObjectEx(unset, 10_000, true));
                Assert.Equal([1, 2], log.Data);
                Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObjectEx(unset, 0, true));
            });
        }
        finally
        {
            KeTest.Close(unset);
        }
    }

    [Fact]
    public void An_APC_queued_while_the_thread_is_blocked_in_an_alertable_wait_ends_it_with_WAIT_IO_COMPLETION_and_runs_there()
    {
        var log = new ApcLog();
        var unset = KeTest.Event(manualReset: true, initialState: false);
        nint thread = 0;
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForSingleObjectEx(unset, 10_000, true));
            thread = Kernel32.OpenThread(AccessMask.THREAD_SET_CONTEXT, false, (uint)waiter.ThreadId);
            Assert.True(thread != 0, $"OpenThread failed with {Kernel32.GetLastError()}");
            Assert.False(waiter.IsCompleted);

            Assert.True(Kernel32.QueueUserAPC(log.Routine, thread, 42));
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, waiter.Join());
            var call = Assert.Single(log.Calls);
            Assert.Equal(42, call.Data);
            Assert.Equal(waiter.ManagedThreadId, call.ManagedThread);
            Assert.Equal((uint)waiter.ThreadId, call.ThreadId);
        }
        finally
        {
            KeTest.Close(thread, unset);
        }
    }

    [Fact]
    public void An_APC_queued_to_a_thread_in_an_alertable_wait_for_multiple_objects_ends_it_with_WAIT_IO_COMPLETION()
    {
        var log = new ApcLog();
        var first = KeTest.Event(manualReset: true, initialState: false);
        var second = KeTest.Event(manualReset: true, initialState: false);
        nint thread = 0;
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForMultipleObjectsEx(2, [first, second], false, 10_000, true));
            thread = Kernel32.OpenThread(AccessMask.THREAD_SET_CONTEXT, false, (uint)waiter.ThreadId);
            Assert.True(thread != 0, $"OpenThread failed with {Kernel32.GetLastError()}");
            Assert.True(Kernel32.QueueUserAPC(log.Routine, thread, 9));
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, waiter.Join());
            Assert.Equal(waiter.ManagedThreadId, Assert.Single(log.Calls).ManagedThread);
        }
        finally
        {
            KeTest.Close(thread, first, second);
        }
    }

    [Fact]
    public void An_APC_queued_to_another_thread_runs_on_that_thread_in_its_alertable_sleep()
    {
        var log = new ApcLog();
        nint thread = 0;
        try
        {
            var sleeper = Parked.Start(() => Kernel32.SleepEx(10_000, true));
            thread = Kernel32.OpenThread(AccessMask.THREAD_SET_CONTEXT, false, (uint)sleeper.ThreadId);
            Assert.True(thread != 0, $"OpenThread failed with {Kernel32.GetLastError()}");
            Assert.True(Kernel32.QueueUserAPC(log.Routine, thread, 1));
            Assert.True(Kernel32.QueueUserAPC(log.Routine, thread, 2));
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, sleeper.Join());
            Assert.NotEmpty(log.Calls);
            Assert.All(log.Calls, call => Assert.Equal(sleeper.ManagedThreadId, call.ManagedThread));
            Assert.NotEqual(Environment.CurrentManagedThreadId, log.Calls[0].ManagedThread);
        }
        finally
        {
            KeTest.Close(thread);
        }
    }

    [Fact]
    public void An_APC_queued_to_a_thread_in_a_non_alertable_wait_waits_for_its_next_alertable_one()
    {
        var log = new ApcLog();
        var unset = KeTest.Event(manualReset: true, initialState: false);
        nint thread = 0;
        try
        {
            using var go = new ManualResetEventSlim();
            var waiter = Parked.Start(() =>
            {
                var first = Kernel32.WaitForSingleObjectEx(unset, 600, false);
                var ranDuringWait = log.Calls.Length;
                go.Wait(KeTest.Timeout);
                var second = Kernel32.SleepEx(0, true);
                return (first, ranDuringWait, second);
            });
            thread = Kernel32.OpenThread(AccessMask.THREAD_SET_CONTEXT, false, (uint)waiter.ThreadId);
            Assert.True(thread != 0, $"OpenThread failed with {Kernel32.GetLastError()}");
            Assert.True(Kernel32.QueueUserAPC(log.Routine, thread, 3));
            go.Set();
            var (firstWait, ranDuringWait, secondWait) = waiter.Join();
            Assert.Equal(Kernel32.WAIT_TIMEOUT, firstWait);
            Assert.Equal(0, ranDuringWait);
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, secondWait);
            Assert.Equal(waiter.ManagedThreadId, Assert.Single(log.Calls).ManagedThread);
        }
        finally
        {
            KeTest.Close(thread, unset);
        }
    }

    [Fact]
    public void NtTestAlert_runs_the_queued_APCs()
    {
        var log = new ApcLog();
        KeTest.OnThread(() =>
        {
            Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 1));
            Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 2));
            var status = Ntdll.NtTestAlert();
            Assert.True(status.IsSuccess, $"NtTestAlert gave {status}");
            Assert.Equal([1, 2], log.Data);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Equal(2, log.Calls.Length);
        });
    }

    [Fact]
    public void NtTestAlert_returns_STATUS_SUCCESS_when_it_delivers_APCs_and_no_alert_is_pending()
    {
        // WRK ps/psspnd.c NtTestAlert: STATUS_ALERTED if an alert was pending, else STATUS_SUCCESS; the
        // user APCs run on the way out of the system call and the caller still sees that status.
        var log = new ApcLog();
        var (withApcs, withoutApcs) = KeTest.OnThread(() =>
        {
            Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 1));
            var first = Ntdll.NtTestAlert();
            var second = Ntdll.NtTestAlert();
            return (first, second);
        });
        Assert.Equal([1], log.Data);
        Assert.Equal(NtStatus.STATUS_SUCCESS, withoutApcs);
        Assert.Equal(NtStatus.STATUS_SUCCESS, withApcs);
    }

    [Fact]
    public void NtDelayExecution_alertable_returns_STATUS_USER_APC_after_running_the_APCs()
    {
        var log = new ApcLog();
        KeTest.OnThread(() =>
        {
            Assert.True(Kernel32.QueueUserAPC(log.Routine, Kernel32.GetCurrentThread(), 4));
            var status = KeTest.NtDelay(alertable: true, KeTest.Relative(10_000));
            Assert.Equal(NtStatus.STATUS_USER_APC, status);
            Assert.Equal([4], log.Data);
            Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtDelay(alertable: true, 0));
        });
    }

    [Fact]
    public void QueueUserAPC_to_an_invalid_handle_is_ERROR_INVALID_HANDLE()
    {
        var log = new ApcLog();
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.False(Kernel32.QueueUserAPC(log.Routine, 0x7FFF_FFF0, 1));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
    }

    [Fact]
    public void QueueUserAPC_through_a_thread_handle_without_THREAD_SET_CONTEXT_is_ERROR_ACCESS_DENIED()
    {
        var log = new ApcLog();
        KeTest.OnThread(() =>
        {
            var thread = Kernel32.OpenThread(AccessMask.THREAD_QUERY_INFORMATION, false, Kernel32.GetCurrentThreadId());
            Assert.True(thread != 0, $"OpenThread failed with {Kernel32.GetLastError()}");
            try
            {
                Kernel32.SetLastError(0xDEADBEEF);
                Assert.False(Kernel32.QueueUserAPC(log.Routine, thread, 1));
                Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
                Assert.Equal(0u, Kernel32.SleepEx(0, true));
                Assert.Empty(log.Calls);
            }
            finally
            {
                KeTest.Close(thread);
            }
        });
    }
}
