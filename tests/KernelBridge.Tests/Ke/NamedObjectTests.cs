using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Named dispatcher objects: create-or-open with ERROR_ALREADY_EXISTS, one namespace shared by the
/// types (ERROR_INVALID_HANDLE for the wrong type), opens of missing or NULL names, case-sensitive
/// names, \BaseNamedObjects and the Global\ / Local\ prefixes, temporary names, the NT statuses
/// with and without OBJ_OPENIF, and sharing between processes (kernelbase sync.c; Wine
/// kernel32/tests/sync.c and ntdll/tests/om.c test_name_collisions / test_case_sensitive, run on
/// Windows; MS docs CreateEvent / CreateMutex "ERROR_INVALID_HANDLE if the name is in use").
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class NamedObjectTests(KernelFixture fixture)
{
    private static bool Listed(string name) =>
        ObjectNamespace.List(@"\BaseNamedObjects").Any(entry => entry.Name == name);

    [Fact]
    public void CreateEvent_of_a_new_name_sets_the_last_error_to_0()
    {
        var name = KeTest.UniqueName("event");
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.CreateEvent(0, true, false, name);
        var error = Kernel32.GetLastError();
        try
        {
            Assert.NotEqual(0, handle);
            Assert.Equal(0u, error);
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void CreateEvent_of_an_existing_name_opens_that_event_with_ERROR_ALREADY_EXISTS()
    {
        var name = KeTest.UniqueName("event");
        var first = KeTest.Event(manualReset: true, initialState: false, name);
        Kernel32.SetLastError(0xDEADBEEF);
        // The type and initial state asked for the second time do not matter: the object exists.
        var second = Kernel32.CreateEvent(0, false, true, name);
        var error = Kernel32.GetLastError();
        try
        {
            Assert.NotEqual(0, second);
            Assert.NotEqual(first, second);
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, error);
            Assert.Equal(183u, error);
            Assert.Equal(0, KeTest.EventState(second));
            Assert.True(Kernel32.SetEvent(second));
            Assert.Equal(1, KeTest.EventState(first));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryEvent(second, out var type, out _));
            Assert.Equal(EventType.NotificationEvent, type);
        }
        finally
        {
            KeTest.Close(first, second);
        }
    }

    [Fact]
    public void CreateSemaphore_CreateMutex_and_CreateWaitableTimer_of_an_existing_name_report_ERROR_ALREADY_EXISTS()
    {
        var semaphoreName = KeTest.UniqueName("semaphore");
        var mutexName = KeTest.UniqueName("mutex");
        var timerName = KeTest.UniqueName("timer");
        var handles = new List<nint>
        {
            KeTest.Semaphore(1, 2, semaphoreName),
            KeTest.Mutex(false, mutexName),
            KeTest.Timer(true, timerName),
        };
        try
        {
            Kernel32.SetLastError(0xDEADBEEF);
            handles.Add(Kernel32.CreateSemaphore(0, 0, 9, semaphoreName));
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
            Assert.Equal((1, 2), KeTest.SemaphoreState(handles[^1]));
            Kernel32.SetLastError(0xDEADBEEF);
            handles.Add(Kernel32.CreateMutex(0, false, mutexName));
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
            Kernel32.SetLastError(0xDEADBEEF);
            handles.Add(Kernel32.CreateWaitableTimer(0, false, timerName));
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
            Assert.DoesNotContain(0, handles);
        }
        finally
        {
            KeTest.Close([.. handles]);
        }
    }

    public static TheoryData<string, string> TypePairs => new()
    {
        { "event", "mutex" },
        { "mutex", "event" },
        { "event", "semaphore" },
        { "semaphore", "timer" },
        { "timer", "event" },
    };

    private static nint Create(string type, string name) => type switch
    {
        "event" => Kernel32.CreateEvent(0, true, false, name),
        "mutex" => Kernel32.CreateMutex(0, false, name),
        "semaphore" => Kernel32.CreateSemaphore(0, 1, 1, name),
        "timer" => Kernel32.CreateWaitableTimer(0, true, name),
        _ => throw new ArgumentException(type),
    };

    [Theory]
    [MemberData(nameof(TypePairs))]
    public void Creating_a_name_that_another_type_holds_is_NULL_with_ERROR_INVALID_HANDLE(string existingType, string newType)
    {
        var name = KeTest.UniqueName(existingType);
        var existing = Create(existingType, name);
        Assert.NotEqual(0, existing);
        try
        {
            Kernel32.SetLastError(0xDEADBEEF);
            var handle = Create(newType, name);
            var error = Kernel32.GetLastError();
            KeTest.Close(handle);
            Assert.Equal(0, handle);
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, error);
            Assert.Equal(6u, error);
        }
        finally
        {
            KeTest.Close(existing);
        }
    }

    [Fact]
    public void OpenEvent_of_a_name_that_a_mutex_holds_is_ERROR_INVALID_HANDLE()
    {
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(false, name);
        try
        {
            Kernel32.SetLastError(0xDEADBEEF);
            var handle = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, name);
            var error = Kernel32.GetLastError();
            KeTest.Close(handle);
            Assert.Equal(0, handle);
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, error);
        }
        finally
        {
            KeTest.Close(mutex);
        }
    }

    [Fact]
    public void OpenEvent_of_a_missing_name_is_ERROR_FILE_NOT_FOUND()
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, KeTest.UniqueName("missing"));
        var error = Kernel32.GetLastError();
        KeTest.Close(handle);
        Assert.Equal(0, handle);
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, error);
        Assert.Equal(2u, error);
    }

    [Fact]
    public void OpenEvent_OpenMutex_and_OpenSemaphore_of_a_NULL_name_are_ERROR_INVALID_PARAMETER()
    {
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, null!));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenMutex(AccessMask.MUTANT_ALL_ACCESS, false, null!));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenSemaphore(AccessMask.SEMAPHORE_ALL_ACCESS, false, null!));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
    }

    [Fact]
    public void OpenWaitableTimer_of_a_NULL_name_is_ERROR_INVALID_PARAMETER()
    {
        // Wine kernel32/tests/sync.c test_waitable_timer, run on Windows.
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.OpenWaitableTimer(AccessMask.TIMER_ALL_ACCESS, false, null!);
        var error = Kernel32.GetLastError();
        KeTest.Close(handle);
        Assert.Equal(0, handle);
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, error);
    }

    [Fact]
    public void OpenWaitableTimer_and_OpenSemaphore_of_a_missing_name_are_ERROR_FILE_NOT_FOUND()
    {
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenWaitableTimer(AccessMask.TIMER_ALL_ACCESS, false, KeTest.UniqueName("missing")));
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenSemaphore(AccessMask.SEMAPHORE_ALL_ACCESS, false, KeTest.UniqueName("missing")));
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        Kernel32.SetLastError(0xDEADBEEF);
        Assert.Equal(0, Kernel32.OpenMutex(AccessMask.MUTANT_ALL_ACCESS, false, KeTest.UniqueName("missing")));
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
    }

    [Fact]
    public void Event_names_are_case_sensitive()
    {
        var name = "Test-" + Guid.NewGuid().ToString("N");
        var lower = KeTest.Event(manualReset: true, initialState: false, name);
        Kernel32.SetLastError(0xDEADBEEF);
        var upper = Kernel32.CreateEvent(0, true, false, name.ToUpperInvariant());
        var error = Kernel32.GetLastError();
        try
        {
            Assert.NotEqual(0, upper);
            Assert.Equal(0u, error);
            Assert.True(Kernel32.SetEvent(upper));
            Assert.Equal(0, KeTest.EventState(lower));

            Kernel32.SetLastError(0xDEADBEEF);
            var other = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, name.ToLowerInvariant());
            var openError = Kernel32.GetLastError();
            KeTest.Close(other);
            Assert.Equal(0, other);
            Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, openError);
        }
        finally
        {
            KeTest.Close(lower, upper);
        }
    }

    [Fact]
    public void A_named_event_lives_in_BaseNamedObjects_and_its_name_goes_with_its_last_handle()
    {
        var name = KeTest.UniqueName("event");
        var first = KeTest.Event(manualReset: true, initialState: false, name);
        var second = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, name);
        Assert.NotEqual(0, second);
        try
        {
            Assert.Equal(@"\BaseNamedObjects\" + name, ObTest.ObjectName(first));
            Assert.Equal("Event", ObTest.TypeName(first));
            var entry = Assert.Single(ObjectNamespace.List(@"\BaseNamedObjects"), e => e.Name == name);
            Assert.Equal("Event", entry.TypeName);

            Assert.True(Kernel32.CloseHandle(first));
            first = 0;
            Assert.True(Listed(name), "the name went while a handle remained");
            Assert.True(Kernel32.CloseHandle(second));
            second = 0;
            Assert.False(Listed(name), "the name outlived the last handle");
            Kernel32.SetLastError(0xDEADBEEF);
            var reopened = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, name);
            KeTest.Close(reopened);
            Assert.Equal(0, reopened);
            Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
        }
        finally
        {
            KeTest.Close(first, second);
        }
    }

    [Fact]
    public void A_name_freed_by_its_last_close_can_be_created_again_as_a_new_object()
    {
        var name = KeTest.UniqueName("event");
        var first = KeTest.Event(manualReset: true, initialState: true, name);
        Assert.True(Kernel32.CloseHandle(first));
        Kernel32.SetLastError(0xDEADBEEF);
        var second = Kernel32.CreateEvent(0, true, false, name);
        try
        {
            Assert.NotEqual(0, second);
            Assert.Equal(0u, Kernel32.GetLastError());
            Assert.Equal(0, KeTest.EventState(second));
        }
        finally
        {
            KeTest.Close(second);
        }
    }

    [Fact]
    public void Global_and_Local_prefixes_name_the_same_object_in_BaseNamedObjects()
    {
        var name = KeTest.UniqueName("event");
        var global = KeTest.Event(manualReset: true, initialState: false, @"Global\" + name);
        var local = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, @"Local\" + name);
        var plain = Kernel32.OpenEvent(AccessMask.EVENT_ALL_ACCESS, false, name);
        try
        {
            Assert.NotEqual(0, local);
            Assert.NotEqual(0, plain);
            Assert.Equal(@"\BaseNamedObjects\" + name, ObTest.ObjectName(global));
            Assert.True(Kernel32.SetEvent(local));
            Assert.Equal(1, KeTest.EventState(global));
            Assert.Equal(1, KeTest.EventState(plain));

            Kernel32.SetLastError(0xDEADBEEF);
            var again = Kernel32.CreateEvent(0, true, false, @"Local\" + name);
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
            KeTest.Close(again);
        }
        finally
        {
            KeTest.Close(global, local, plain);
        }
    }

    [Fact]
    public void An_NT_create_of_an_existing_name_without_OBJ_OPENIF_is_STATUS_OBJECT_NAME_COLLISION()
    {
        var name = KeTest.NtName(KeTest.UniqueName("event"));
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var first, EventType.NotificationEvent, false, name));
        try
        {
            var status = KeTest.NtCreateEvent(out var second, EventType.NotificationEvent, false, name);
            if (status.IsSuccess) KeTest.Close(second);
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_COLLISION, status);
            Assert.Equal(0, second);
        }
        finally
        {
            KeTest.Close(first);
        }
    }

    [Fact]
    public void An_NT_create_of_an_existing_name_with_OBJ_OPENIF_is_STATUS_OBJECT_NAME_EXISTS_with_a_handle_to_it()
    {
        var name = KeTest.NtName(KeTest.UniqueName("event"));
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateEvent(out var first, EventType.NotificationEvent, false, name));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_EXISTS, KeTest.NtCreateEvent(out var second, EventType.SynchronizationEvent, true, name,
            ObjectAttributeFlags.OBJ_OPENIF));
        try
        {
            Assert.NotEqual(0, second);
            Assert.Equal(0, KeTest.EventState(second));
            Assert.True(Kernel32.SetEvent(second));
            Assert.Equal(1, KeTest.EventState(first));
        }
        finally
        {
            KeTest.Close(first, second);
        }
    }

    [Fact]
    public void An_NT_create_with_OBJ_OPENIF_of_a_name_another_type_holds_is_STATUS_OBJECT_TYPE_MISMATCH()
    {
        var name = KeTest.NtName(KeTest.UniqueName("mutex"));
        Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateMutant(out var mutant, false, name));
        try
        {
            var status = KeTest.NtCreateEvent(out var handle, EventType.NotificationEvent, false, name, ObjectAttributeFlags.OBJ_OPENIF);
            if (status.IsSuccess) KeTest.Close(handle);
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, status);

            // Without OBJ_OPENIF: STATUS_OBJECT_NAME_COLLISION, or STATUS_OBJECT_TYPE_MISMATCH on
            // Windows 7 and later (Wine ntdll/tests/sync.c test_keyed_events).
            status = KeTest.NtCreateEvent(out handle, EventType.NotificationEvent, false, name);
            if (status.IsSuccess) KeTest.Close(handle);
            Assert.True(status == NtStatus.STATUS_OBJECT_NAME_COLLISION || status == NtStatus.STATUS_OBJECT_TYPE_MISMATCH, $"got {status}");
        }
        finally
        {
            KeTest.Close(mutant);
        }
    }

    [Fact]
    public void A_second_process_can_open_a_named_event_and_signal_a_waiter_in_the_first()
    {
        var name = KeTest.UniqueName("event");
        var handle = KeTest.Event(manualReset: false, initialState: false, name);
        using var other = GateClient.Connect(fixture.Instance, autoStart: false);
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(handle, 10_000));
            var (signalled, error) = KeTest.OnThread(() =>
            {
                var opened = Kernel32.OpenEvent(AccessMask.EVENT_MODIFY_STATE, false, name);
                if (opened == 0) return (false, Kernel32.GetLastError());
                var ok = Kernel32.SetEvent(opened);
                var lastError = Kernel32.GetLastError();
                Kernel32.CloseHandle(opened);
                return (ok, lastError);
            }, other);
            Assert.True(signalled, $"the second process could not signal the event: {error}");
            Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(0, KeTest.EventState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_second_process_sees_ERROR_ALREADY_EXISTS_and_the_same_object()
    {
        var name = KeTest.UniqueName("event");
        var handle = KeTest.Event(manualReset: true, initialState: false, name);
        using var other = GateClient.Connect(fixture.Instance, autoStart: false);
        try
        {
            var (error, state) = KeTest.OnThread(() =>
            {
                Kernel32.SetLastError(0xDEADBEEF);
                var opened = Kernel32.CreateEvent(0, true, false, name);
                var lastError = Kernel32.GetLastError();
                Assert.NotEqual(0, opened);
                Assert.True(Kernel32.SetEvent(opened));
                var signalState = KeTest.EventState(opened);
                Kernel32.CloseHandle(opened);
                return (lastError, signalState);
            }, other);
            Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, error);
            Assert.Equal(1, state);
            Assert.Equal(1, KeTest.EventState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }
}
