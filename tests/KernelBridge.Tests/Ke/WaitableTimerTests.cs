using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Waitable timers: notification (manual) and synchronization timers, relative due times, periods,
/// cancellation that keeps the signal state, re-setting that resets it, and the completion routine
/// that runs on the setting thread in an alertable wait (kernelbase sync.c SetWaitableTimer; Wine
/// kernel32/tests/sync.c test_waitable_timer; WRK ex/timer.c NtSetTimer / NtCancelTimer, ke/timerobj.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class WaitableTimerTests(KernelFixture fixture)
{
    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(-1)]
    public void NtCreateTimer_with_an_unknown_timer_type_fails_with_an_invalid_parameter_status(int type)
    {
        var status = KeTest.NtCreateTimer(out var handle, (TimerType)type);
        if (status.IsSuccess) KeTest.Close(handle);
        Assert.True(status == NtStatus.STATUS_INVALID_PARAMETER || status == NtStatus.STATUS_INVALID_PARAMETER_4,
            $"NtCreateTimer(type {type}) gave {status}");
    }

    [Fact]
    public void A_new_timer_is_not_signalled()
    {
        var manual = KeTest.Timer(manualReset: true);
        var sync = KeTest.Timer(manualReset: false);
        try
        {
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(manual));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(sync));
        }
        finally
        {
            KeTest.Close(manual, sync);
        }
    }

    [Fact]
    public void A_manual_reset_timer_fires_after_its_relative_due_time_and_stays_signalled()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            var clock = Stopwatch.StartNew();
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(200), 0, null, 0, false));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(timer));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
            Assert.True(clock.ElapsedMilliseconds >= 150, $"the timer fired after {clock.ElapsedMilliseconds} ms, not 200");
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(timer));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(timer));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_synchronization_timer_is_reset_by_the_wait_it_satisfies()
    {
        var timer = KeTest.Timer(manualReset: false);
        try
        {
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(50), 0, null, 0, false));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(timer));
            // One-shot: it does not fire again.
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(timer, 200));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_manual_reset_timer_releases_every_waiter()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            var waiters = Parked.Start(3, () => Kernel32.WaitForSingleObject(timer, 10_000));
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, null, 0, false));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_periodic_synchronization_timer_fires_again_every_period()
    {
        var timer = KeTest.Timer(manualReset: false);
        try
        {
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 50, null, 0, false));
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 4; i++)
                Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
            // Four expirations: the first after 20 ms, then every 50 ms.
            Assert.True(clock.ElapsedMilliseconds >= 120, $"four expirations took only {clock.ElapsedMilliseconds} ms");

            Assert.True(Kernel32.CancelWaitableTimer(timer));
            KeTest.Poll(timer);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(timer, 200));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void CancelWaitableTimer_stops_a_timer_before_it_fires()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(150), 0, null, 0, false));
            Assert.True(Kernel32.CancelWaitableTimer(timer));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(timer, 400));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void CancelWaitableTimer_leaves_a_signalled_timer_signalled()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, null, 0, false));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
            Assert.True(Kernel32.CancelWaitableTimer(timer));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(timer));

            var state = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCancelTimer(timer, &state));
            Assert.Equal(1, state);
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void SetWaitableTimer_resets_a_signalled_timer()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, null, 0, false));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));

            long due = KeTest.Relative(10_000);
            var previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetTimer(timer, &due, 0, 0, false, 0, &previous));
            Assert.Equal(1, previous);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(timer));

            var state = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCancelTimer(timer, &state));
            Assert.Equal(0, state);
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_timer_set_with_an_absolute_due_time_fires_at_that_time()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            var due = DateTime.UtcNow.AddMilliseconds(150).ToFileTimeUtc();
            Assert.True(Kernel32.SetWaitableTimer(timer, due, 0, null, 0, false));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(timer));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
            Assert.True(DateTime.UtcNow.ToFileTimeUtc() >= due - 50 * 10_000, "the timer fired well before its absolute due time");
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    private sealed class TimerApcLog
    {
        public readonly List<(nint Argument, uint Low, uint High, int ManagedThread)> Calls = [];

        public void Routine(nint argument, uint low, uint high)
        {
            lock (Calls) Calls.Add((argument, low, high, Environment.CurrentManagedThreadId));
        }
    }

    [Fact]
    public void The_completion_routine_runs_on_the_setting_thread_in_an_alertable_wait_with_the_fire_time()
    {
        var timer = KeTest.Timer(manualReset: true);
        var log = new TimerApcLog();
        try
        {
            using var setter = new ThreadCall<(uint Sleep, long Before, long After)>(() =>
            {
                var before = DateTime.UtcNow.ToFileTimeUtc();
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(30), 0, log.Routine, 0x1234, false));
                var slept = Kernel32.SleepEx(10_000, true);
                return (slept, before, DateTime.UtcNow.ToFileTimeUtc());
            });
            var (sleep, before, after) = setter.Join();
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, sleep);
            var call = Assert.Single(log.Calls);
            Assert.Equal(0x1234, call.Argument);
            Assert.Equal(setter.ManagedThreadId, call.ManagedThread);
            var fired = ((long)call.High << 32) | call.Low;
            Assert.InRange(fired, before, after + 10_000_000);
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(timer));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void The_completion_routine_waits_for_an_alertable_wait()
    {
        var timer = KeTest.Timer(manualReset: true);
        var log = new TimerApcLog();
        try
        {
            KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, log.Routine, 7, false));
                // A non-alertable wait sees the timer signalled but runs no routine.
                Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
                Thread.Sleep(100);
                Assert.Equal(0u, Kernel32.SleepEx(20, false));
                lock (log.Calls) Assert.Empty(log.Calls);
                Assert.Equal(Kernel32.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
                lock (log.Calls) Assert.Single(log.Calls);
                Assert.Equal(0u, Kernel32.SleepEx(0, true));
                lock (log.Calls) Assert.Single(log.Calls);
            });
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_periodic_timer_queues_its_completion_routine_at_each_expiration()
    {
        var timer = KeTest.Timer(manualReset: false);
        var log = new TimerApcLog();
        try
        {
            KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 40, log.Routine, 3, false));
                var deadline = DateTime.UtcNow + KeTest.Timeout;
                while (true)
                {
                    lock (log.Calls)
                        if (log.Calls.Count >= 3) break;
                    Assert.True(DateTime.UtcNow < deadline, "the routine did not run three times");
                    Kernel32.SleepEx(1_000, true);
                }
                Assert.True(Kernel32.CancelWaitableTimer(timer));
            });
            Assert.All(log.Calls, call => Assert.Equal(3, call.Argument));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }
    [Fact]
    public void CancelWaitableTimer_removes_a_completion_routine_that_is_queued_but_has_not_run()
    {
        // WRK ex/timer.c NtCancelTimer: KeRemoveQueueApc(&ExTimer->TimerApc) for a timer with an APC.
        var timer = KeTest.Timer(manualReset: true);
        var log = new TimerApcLog();
        try
        {
            var (sleep, calls) = KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, log.Routine, 1, false));
                Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
                Thread.Sleep(100);
                Assert.True(Kernel32.CancelWaitableTimer(timer));
                var slept = Kernel32.SleepEx(0, true);
                lock (log.Calls) return (slept, log.Calls.Count);
            });
            Assert.Equal(0, calls);
            Assert.Equal(0u, sleep);
            // The signal state is the timer's own business: still signalled.
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(timer));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void SetWaitableTimer_again_removes_the_previous_completion_routine_if_it_has_not_run()
    {
        // WRK ex/timer.c NtSetTimer cancels the timer (and its queued APC) before setting it again.
        var timer = KeTest.Timer(manualReset: true);
        var log = new TimerApcLog();
        try
        {
            var (sleep, calls) = KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(20), 0, log.Routine, 1, false));
                Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
                Thread.Sleep(100);
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(60_000), 0, null, 0, false));
                var slept = Kernel32.SleepEx(0, true);
                Assert.True(Kernel32.CancelWaitableTimer(timer));
                lock (log.Calls) return (slept, log.Calls.Count);
            });
            Assert.Equal(0, calls);
            Assert.Equal(0u, sleep);
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_periodic_timer_has_at_most_one_completion_routine_pending()
    {
        // WRK: the timer owns one KAPC; the DPC's KeInsertQueueApc fails while it is still queued,
        // so expirations during a non-alertable stretch do not pile up.
        var timer = KeTest.Timer(manualReset: false);
        var log = new TimerApcLog();
        try
        {
            var (sleep, calls) = KeTest.OnThread(() =>
            {
                Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(10), 20, log.Routine, 5, false));
                Thread.Sleep(400);
                var slept = Kernel32.SleepEx(0, true);
                int count;
                lock (log.Calls) count = log.Calls.Count;
                Assert.True(Kernel32.CancelWaitableTimer(timer));
                return (slept, count);
            });
            Assert.Equal(Kernel32.WAIT_IO_COMPLETION, sleep);
            Assert.Equal(1, calls);
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_timer_with_a_completion_routine_is_cancelled_when_the_process_of_the_setting_thread_goes_away()
    {
        // MS docs SetWaitableTimer: "If the thread that set the timer terminates and there is an
        // associated completion routine, the timer is canceled. However, the state of the timer
        // remains unchanged." WRK ps/psdelete.c PspExitThread -> ex/timer.c ExTimerRundown.
        var name = KeTest.UniqueName("timer");
        var timer = KeTest.Timer(manualReset: true, name);
        var other = GateClient.Connect(fixture.Instance, autoStart: false);
        var log = new TimerApcLog();
        try
        {
            KeTest.OnThread(() =>
            {
                var opened = Kernel32.OpenWaitableTimer(AccessMask.TIMER_ALL_ACCESS, false, name);
                Assert.True(opened != 0, $"OpenWaitableTimer failed with {Kernel32.GetLastError()}");
                Assert.True(Kernel32.SetWaitableTimer(opened, KeTest.Relative(500), 0, log.Routine, 1, false));
            }, other);
            other.Dispose();
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(timer, 1_500));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_timer_with_a_completion_routine_is_cancelled_when_the_setting_thread_exits()
    {
        // As above, for a thread that ends while its process lives on. The kernel learns of the
        // exit from /proc within a couple of seconds, so the due time is longer than that.
        var timer = KeTest.Timer(manualReset: true);
        var log = new TimerApcLog();
        try
        {
            KeTest.OnThread(() => Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(3_000), 0, log.Routine, 1, false)));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(timer, 4_500));
        }
        finally
        {
            Kernel32.CancelWaitableTimer(timer);
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_timer_without_a_completion_routine_outlives_the_thread_that_set_it()
    {
        var timer = KeTest.Timer(manualReset: true);
        try
        {
            KeTest.OnThread(() => Assert.True(Kernel32.SetWaitableTimer(timer, KeTest.Relative(100), 0, null, 0, false)));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(timer, 10_000));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }
}
