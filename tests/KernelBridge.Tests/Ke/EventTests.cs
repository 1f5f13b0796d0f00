using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Events: notification (manual reset) and synchronization (auto reset) events, the previous
/// states NtSetEvent / NtResetEvent / NtPulseEvent report, PulseEvent, NtQueryEvent (Wine
/// ntdll/tests/sync.c test_event and kernel32/tests/sync.c test_event, run on Windows; WRK ke/eventobj.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class EventTests
{
    [Fact]
    public void An_auto_reset_event_releases_one_waiter_per_set_and_resets()
    {
        var handle = KeTest.Event(manualReset: false, initialState: false);
        try
        {
            var waiters = Parked.Start(2, () => Kernel32.WaitForSingleObject(handle, 10_000));
            Assert.True(Kernel32.SetEvent(handle));
            Assert.True(KeTest.Eventually(() => waiters.Any(w => w.IsCompleted)), "no waiter was released");
            Thread.Sleep(KeTest.Settle);
            Assert.Equal(1, waiters.Count(w => w.IsCompleted));
            Assert.Equal(0, KeTest.EventState(handle));

            Assert.True(Kernel32.SetEvent(handle));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(0, KeTest.EventState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_satisfied_wait_resets_an_auto_reset_event()
    {
        var handle = KeTest.Event(manualReset: false, initialState: true);
        try
        {
            Assert.Equal(1, KeTest.EventState(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
            Assert.Equal(0, KeTest.EventState(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_manual_reset_event_releases_every_waiter_and_stays_set()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var waiters = Parked.Start(3, () => Kernel32.WaitForSingleObject(handle, 10_000));
            Assert.True(Kernel32.SetEvent(handle));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(1, KeTest.EventState(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));

            Assert.True(Kernel32.ResetEvent(handle));
            Assert.Equal(0, KeTest.EventState(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void NtSetEvent_and_NtResetEvent_report_the_previous_state()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var handle, EventType.NotificationEvent, false));
        try
        {
            var previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetEvent(handle, &previous));
            Assert.Equal(0, previous);
            previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetEvent(handle, &previous));
            Assert.Equal(1, previous);
            previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtResetEvent(handle, &previous));
            Assert.Equal(1, previous);
            previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtResetEvent(handle, &previous));
            Assert.Equal(0, previous);
            // The pointer is optional.
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetEvent(handle, null));
            Assert.Equal(1, KeTest.EventState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void NtPulseEvent_reports_the_previous_state_and_leaves_the_event_reset()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var handle, EventType.NotificationEvent, false));
        try
        {
            var previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtPulseEvent(handle, &previous));
            Assert.Equal(0, previous);
            Assert.Equal(0, KeTest.EventState(handle));

            Assert.True(Kernel32.SetEvent(handle));
            previous = 0x55;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtPulseEvent(handle, &previous));
            Assert.Equal(1, previous);
            Assert.Equal(0, KeTest.EventState(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void PulseEvent_on_a_manual_event_releases_every_current_waiter_and_leaves_it_reset()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var waiters = Parked.Start(3, () => Kernel32.WaitForSingleObject(handle, 10_000));
            Assert.True(Kernel32.PulseEvent(handle));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(0, KeTest.EventState(handle));
            // A wait that starts after the pulse does not see it.
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(handle, 50));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void PulseEvent_on_an_auto_event_releases_one_waiter_and_leaves_it_reset()
    {
        var handle = KeTest.Event(manualReset: false, initialState: false);
        try
        {
            var waiters = Parked.Start(2, () => Kernel32.WaitForSingleObject(handle, 10_000));
            Assert.True(Kernel32.PulseEvent(handle));
            Assert.True(KeTest.Eventually(() => waiters.Any(w => w.IsCompleted)), "the pulse released nobody");
            Thread.Sleep(KeTest.Settle);
            Assert.Equal(1, waiters.Count(w => w.IsCompleted));
            Assert.Equal(0, KeTest.EventState(handle));
            Assert.True(Kernel32.SetEvent(handle));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void PulseEvent_with_nobody_waiting_leaves_the_event_reset()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            Assert.True(Kernel32.PulseEvent(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Theory]
    [InlineData(EventType.NotificationEvent, false)]
    [InlineData(EventType.NotificationEvent, true)]
    [InlineData(EventType.SynchronizationEvent, false)]
    [InlineData(EventType.SynchronizationEvent, true)]
    public void NtQueryEvent_reports_the_type_and_state(EventType type, bool initialState)
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var handle, type, initialState));
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryEvent(handle, out var queriedType, out var state));
            Assert.Equal(type, queriedType);
            Assert.Equal(initialState ? 1 : 0, state);
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void CreateEvent_maps_manual_reset_to_a_notification_event_and_auto_reset_to_a_synchronization_event()
    {
        var manual = KeTest.Event(manualReset: true, initialState: true);
        var auto = KeTest.Event(manualReset: false, initialState: false);
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryEvent(manual, out var manualType, out var manualState));
            Assert.Equal(EventType.NotificationEvent, manualType);
            Assert.Equal(1, manualState);
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryEvent(auto, out var autoType, out var autoState));
            Assert.Equal(EventType.SynchronizationEvent, autoType);
            Assert.Equal(0, autoState);
        }
        finally
        {
            KeTest.Close(manual, auto);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-1)]
    public void NtCreateEvent_with_an_unknown_event_type_is_STATUS_INVALID_PARAMETER(int type)
    {
        var status = KeTest.NtCreateEvent(out var handle, (EventType)type, false);
        if (status.IsSuccess) KeTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, status);
    }

    [Fact]
    public void Event_calls_on_a_handle_to_another_type_are_STATUS_OBJECT_TYPE_MISMATCH_and_ERROR_INVALID_HANDLE()
    {
        var semaphore = KeTest.Semaphore(1, 1);
        try
        {
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtSetEvent(semaphore, null));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtResetEvent(semaphore, null));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtPulseEvent(semaphore, null));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Ntdll.NtQueryEvent(semaphore, out _, out _));
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.False(Kernel32.SetEvent(semaphore));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
            Assert.Equal((1, 1), KeTest.SemaphoreState(semaphore));
        }
        finally
        {
            KeTest.Close(semaphore);
        }
    }

    [Fact]
    public void Event_calls_on_an_invalid_handle_are_STATUS_INVALID_HANDLE()
    {
        var previous = 0x55;
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtSetEvent(0x7FFF_FFF0, &previous));
        Assert.Equal(0x55, previous);
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtQueryEvent(0x7FFF_FFF0, out _, out _));
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.False(Kernel32.ResetEvent(0x7FFF_FFF0));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
    }

    [Fact]
    public void NtQueryEvent_needs_EVENT_QUERY_STATE_and_NtSetEvent_needs_EVENT_MODIFY_STATE()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var modifyOnly, EventType.NotificationEvent, false,
            access: AccessMask.EVENT_MODIFY_STATE));
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var queryOnly, EventType.NotificationEvent, false,
            access: AccessMask.EVENT_QUERY_STATE));
        try
        {
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtQueryEvent(modifyOnly, out _, out _));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetEvent(modifyOnly, null));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtSetEvent(queryOnly, null));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryEvent(queryOnly, out _, out _));
        }
        finally
        {
            KeTest.Close(modifyOnly, queryOnly);
        }
    }
}
