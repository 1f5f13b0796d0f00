using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Timeouts beyond any calendar — 0x7FFFFFFFFFFFFFFF absolute, or a relative -2^63 — are endless
/// waits, as Windows effectively treats them; they are not an internal error, and the waited
/// object is released like any other (regression: STATUS_INTERNAL_ERROR and a leaked object,
/// and on a file handle no IRP_MJ_CLOSE, for every such wait).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class EndlessTimeoutTests
{
    private const long BeyondAnyCalendar = long.MaxValue;
    private const long LongestRelative = long.MinValue;

    [Theory]
    [InlineData(BeyondAnyCalendar)]
    [InlineData(LongestRelative)]
    public void A_wait_with_a_timeout_beyond_any_clock_waits_until_the_object_is_signalled(long timeout)
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            using var call = new ThreadCall<NtStatus>(() =>
            {
                var t = timeout;
                return Ntdll.NtWaitForSingleObject(handle, false, &t);
            });
            call.WaitStarted();
            Assert.False(call.Finished(KeTest.Settle), "the endless wait returned before the event was set");
            Kernel32.SetEvent(handle);
            Assert.Equal(NtStatus.STATUS_WAIT_0, call.Join());
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_wait_for_several_objects_with_an_endless_timeout_waits_until_one_is_signalled()
    {
        var first = KeTest.Event(manualReset: true, initialState: false);
        var second = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            using var call = new ThreadCall<NtStatus>(() =>
            {
                var handles = new[] { first, second };
                var t = BeyondAnyCalendar;
                fixed (nint* pointer = handles) return Ntdll.NtWaitForMultipleObjects(2, pointer, WaitType.WaitAny, false, &t);
            });
            call.WaitStarted();
            Assert.False(call.Finished(KeTest.Settle), "the endless wait returned before an event was set");
            Kernel32.SetEvent(second);
            Assert.Equal(NtStatus.STATUS_WAIT_1, call.Join());
        }
        finally
        {
            KeTest.Close(first, second);
        }
    }

    [Fact]
    public void An_alertable_endless_delay_ends_with_an_APC()
    {
        using var call = new ThreadCall<NtStatus>(() => KeTest.NtDelay(alertable: true, BeyondAnyCalendar));
        call.WaitStarted();
        Parked.Settle();
        Assert.False(call.IsCompleted, "the endless delay returned on its own");
        var thread = Kernel32.OpenThread(AccessMask.THREAD_SET_CONTEXT, false, (uint)call.ThreadId);
        Assert.NotEqual(0, thread);
        try
        {
            Assert.True(Kernel32.QueueUserAPC(static _ => { }, thread, 0));
            Assert.Equal(NtStatus.STATUS_USER_APC, call.Join());
        }
        finally
        {
            KeTest.Close(thread);
        }
    }

    [Fact]
    public void A_timer_due_beyond_any_clock_is_set_and_never_fires()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateTimer(out var timer, TimerType.NotificationTimer));
        try
        {
            var due = BeyondAnyCalendar;
            int previous;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetTimer(timer, &due, 0, 0, false, 0, &previous));
            Assert.Equal(0, previous);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Wait(timer, 200).Result);
            Assert.True(Kernel32.CancelWaitableTimer(timer));
        }
        finally
        {
            KeTest.Close(timer);
        }
    }

    [Fact]
    public void A_completion_port_wait_with_an_endless_timeout_takes_the_next_packet()
    {
        nint created;
        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCreateIoCompletion(&created, AccessMask.IO_COMPLETION_ALL_ACCESS, default, 0));
        var port = created;
        try
        {
            using var call = new ThreadCall<(NtStatus, ulong)>(() =>
            {
                var t = BeyondAnyCalendar;
                nint key, context;
                IO_STATUS_BLOCK iosb;
                var status = Ntdll.NtRemoveIoCompletion(port, &key, &context, &iosb, &t);
                return (status, (ulong)key);
            });
            call.WaitStarted();
            Assert.False(call.Finished(KeTest.Settle), "the endless port wait returned before a packet came");
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(port, 42, 7, NtStatus.STATUS_SUCCESS, 0));
            Assert.Equal((NtStatus.STATUS_SUCCESS, 42ul), call.Join());
        }
        finally
        {
            KeTest.Close(port);
        }
    }

    [Fact]
    public void Endless_waits_on_fresh_file_handles_release_every_file_and_the_driver_sees_every_close()
    {
        const int Rounds = 2_000;
        var tag = KbTest.NewTag();
        var files = ObjectCount("File");
        for (var i = 0; i < Rounds; i++)
        {
            var handle = KbTest.Open(tag);
            // A fresh file object is signalled: the wait returns at once.
            Assert.Equal(NtStatus.STATUS_WAIT_0, KeTest.NtWait(handle, BeyondAnyCalendar));
            Assert.True(Kernel32.CloseHandle(handle));
        }
        var counters = KbTest.Counters(tag);
        Assert.Equal(Rounds, counters.Creates);
        Assert.True(KeTest.Eventually(() => KbTest.Counters(tag).Closes == Rounds), $"the driver saw {KbTest.Counters(tag).Closes} closes of {Rounds}");
        Assert.True(KeTest.Eventually(() => ObjectCount("File") <= files), $"{ObjectCount("File") - files} file objects were left behind");
    }

    private static int ObjectCount(string type) => KernelControl.QueryState().Types.Single(t => t.Name == type).Objects;
}
