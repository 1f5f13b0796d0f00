using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// WaitForSingleObject / WaitForMultipleObjects and their NT calls: timeouts and polls, wait-any
/// (lowest index, only that one consumed), wait-all (atomic), the handle-count limits, duplicates,
/// handles that cannot be waited on, handles without SYNCHRONIZE, bad handles, file objects, and
/// waits that are parked state rather than kernel threads (kernelbase sync.c; Wine kernel32/tests/sync.c
/// test_WaitForSingleObject / test_WaitForMultipleObjects and ntoskrnl.exe/tests/driver.c test_sync,
/// run on Windows; WRK ob/obwait.c NtWaitForSingleObject / NtWaitForMultipleObjects).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class WaitTests
{
    // ---- Timeouts ----

    [Fact]
    public void A_wait_that_times_out_returns_WAIT_TIMEOUT_after_the_timeout()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var clock = Stopwatch.StartNew();
            var (result, _) = KeTest.Wait(handle, 100);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, result);
            Assert.Equal(0x102u, result);
            Assert.True(clock.ElapsedMilliseconds >= 90, $"the wait timed out after {clock.ElapsedMilliseconds} ms");

            Assert.Equal(NtStatus.STATUS_TIMEOUT, KeTest.NtWait(handle, KeTest.Relative(50)));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_zero_timeout_polls_and_returns_at_once()
    {
        var unset = KeTest.Event(manualReset: true, initialState: false);
        var set = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(unset));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(set));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple([unset, unset], waitAll: false).Result);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple([set, unset], waitAll: true).Result);
            Assert.True(clock.ElapsedMilliseconds < 2_000, $"four polls took {clock.ElapsedMilliseconds} ms");
        }
        finally
        {
            KeTest.Close(unset, set);
        }
    }

    [Fact]
    public void A_signalled_object_satisfies_a_wait_at_once_with_WAIT_OBJECT_0()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Assert.Equal((Kernel32.WAIT_OBJECT_0, 0xDEADBEEFu), KeTest.Wait(handle, 10_000));
            Assert.Equal(NtStatus.STATUS_WAIT_0, KeTest.NtWait(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    // ---- Wait-any ----

    [Fact]
    public void Wait_any_returns_the_lowest_signalled_index_and_consumes_only_that_object()
    {
        var events = new[]
        {
            KeTest.Event(manualReset: false, initialState: false),
            KeTest.Event(manualReset: false, initialState: true),
            KeTest.Event(manualReset: false, initialState: true),
            KeTest.Event(manualReset: false, initialState: true),
        };
        try
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 1, KeTest.WaitMultiple(events, waitAll: false).Result);
            Assert.Equal([0, 0, 1, 1], events.Select(KeTest.EventState));
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 2, KeTest.WaitMultiple(events, waitAll: false).Result);
            Assert.Equal([0, 0, 0, 1], events.Select(KeTest.EventState));
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 3, KeTest.WaitMultiple(events, waitAll: false).Result);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple(events, waitAll: false).Result);
        }
        finally
        {
            KeTest.Close(events);
        }
    }

    [Fact]
    public void Wait_any_takes_one_count_of_a_semaphore_and_leaves_later_objects_alone()
    {
        var semaphore = KeTest.Semaphore(2, 5);
        var auto = KeTest.Event(manualReset: false, initialState: true);
        try
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.WaitMultiple([semaphore, auto], waitAll: false).Result);
            Assert.Equal((1, 5), KeTest.SemaphoreState(semaphore));
            Assert.Equal(1, KeTest.EventState(auto));
        }
        finally
        {
            KeTest.Close(semaphore, auto);
        }
    }

    [Fact]
    public void A_parked_wait_any_is_satisfied_by_whichever_object_is_signalled_and_reports_its_index()
    {
        var first = KeTest.Event(manualReset: false, initialState: false);
        var second = KeTest.Event(manualReset: false, initialState: false);
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForMultipleObjects(2, [first, second], false, 10_000));
            Assert.True(Kernel32.SetEvent(second));
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 1, waiter.Join());
            Assert.Equal(0, KeTest.EventState(second));
            Assert.Equal(0, KeTest.EventState(first));
        }
        finally
        {
            KeTest.Close(first, second);
        }
    }

    // ---- Wait-all ----

    [Fact]
    public void Wait_all_is_atomic_setting_one_object_does_not_consume_it_and_the_last_one_completes_the_wait()
    {
        var auto = KeTest.Event(manualReset: false, initialState: false);
        var manual = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForMultipleObjects(2, [auto, manual], true, 10_000));
            Assert.True(Kernel32.SetEvent(auto));
            Thread.Sleep(KeTest.Settle);
            Assert.False(waiter.IsCompleted, "wait-all returned with only one of its objects signalled");
            Assert.Equal(1, KeTest.EventState(auto));

            Assert.True(Kernel32.SetEvent(manual));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            // Both were taken together: the auto event is consumed, the manual one stays set.
            Assert.Equal(0, KeTest.EventState(auto));
            Assert.Equal(1, KeTest.EventState(manual));
        }
        finally
        {
            KeTest.Close(auto, manual);
        }
    }

    [Fact]
    public void A_partial_match_in_wait_all_consumes_nothing()
    {
        var auto = KeTest.Event(manualReset: false, initialState: true);
        var semaphore = KeTest.Semaphore(1, 3);
        var manual = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple([auto, semaphore, manual], waitAll: true, 100).Result);
            Assert.Equal(1, KeTest.EventState(auto));
            Assert.Equal((1, 3), KeTest.SemaphoreState(semaphore));
        }
        finally
        {
            KeTest.Close(auto, semaphore, manual);
        }
    }

    [Fact]
    public void A_satisfied_wait_all_consumes_every_auto_event_and_one_count_of_every_semaphore()
    {
        var first = KeTest.Event(manualReset: false, initialState: true);
        var second = KeTest.Event(manualReset: false, initialState: true);
        var manual = KeTest.Event(manualReset: true, initialState: true);
        var semaphore = KeTest.Semaphore(2, 3);
        try
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.WaitMultiple([first, second, manual, semaphore], waitAll: true).Result);
            Assert.Equal(0, KeTest.EventState(first));
            Assert.Equal(0, KeTest.EventState(second));
            Assert.Equal(1, KeTest.EventState(manual));
            Assert.Equal((1, 3), KeTest.SemaphoreState(semaphore));
        }
        finally
        {
            KeTest.Close(first, second, manual, semaphore);
        }
    }

    [Fact]
    public void A_wait_all_that_is_not_yet_satisfiable_does_not_steal_an_auto_event_from_a_single_waiter()
    {
        var auto = KeTest.Event(manualReset: false, initialState: false);
        var manual = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var all = Parked.Start(() => Kernel32.WaitForMultipleObjects(2, [auto, manual], true, 10_000));
            var single = Parked.Start(() => Kernel32.WaitForSingleObject(auto, 10_000));
            Assert.True(Kernel32.SetEvent(auto));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, single.Join());
            Assert.False(all.IsCompleted);
            Assert.True(Kernel32.SetEvent(manual));
            Assert.True(Kernel32.SetEvent(auto));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, all.Join());
        }
        finally
        {
            KeTest.Close(auto, manual);
        }
    }

    // ---- Counts ----

    private static nint[] ManualEvents(int count) =>
        Enumerable.Range(0, count).Select(_ => KeTest.Event(manualReset: true, initialState: false)).ToArray();

    [Fact]
    public void Sixty_four_handles_are_allowed()
    {
        var events = ManualEvents(Kernel32.MAXIMUM_WAIT_OBJECTS);
        try
        {
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple(events, waitAll: false).Result);
            Assert.True(Kernel32.SetEvent(events[63]));
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 63, KeTest.WaitMultiple(events, waitAll: false).Result);
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.WaitMultiple(events, waitAll: true).Result);
            foreach (var handle in events) Assert.True(Kernel32.SetEvent(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.WaitMultiple(events, waitAll: true).Result);
        }
        finally
        {
            KeTest.Close(events);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sixty_five_handles_are_WAIT_FAILED_with_ERROR_INVALID_PARAMETER(bool waitAll)
    {
        var events = ManualEvents(Kernel32.MAXIMUM_WAIT_OBJECTS + 1);
        try
        {
            Assert.True(Kernel32.SetEvent(events[0]));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_PARAMETER), KeTest.WaitMultiple(events, waitAll));
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_1, KeTest.NtWaitMultiple(events, waitAll ? WaitType.WaitAll : WaitType.WaitAny));
        }
        finally
        {
            KeTest.Close(events);
        }
    }

    [Fact]
    public void No_handles_at_all_is_WAIT_FAILED_with_ERROR_INVALID_PARAMETER()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.Equal(Kernel32.WAIT_FAILED, Kernel32.WaitForMultipleObjects(0, [handle], false, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_1, KeTest.NtWaitMultiple([handle], WaitType.WaitAny, count: 0));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void NtWaitForMultipleObjects_with_an_unknown_wait_type_is_STATUS_INVALID_PARAMETER_3()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_3, KeTest.NtWaitMultiple([handle], (WaitType)2));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    // ---- Duplicates ----

    [Fact]
    public void The_same_handle_twice_in_wait_all_is_WAIT_FAILED_with_ERROR_INVALID_PARAMETER()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_PARAMETER), KeTest.WaitMultiple([handle, handle], waitAll: true));
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_MIX, KeTest.NtWaitMultiple([handle, handle], WaitType.WaitAll));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void Two_handles_to_one_object_in_wait_all_are_STATUS_INVALID_PARAMETER_MIX()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), handle, Kernel32.GetCurrentProcess(), out var duplicate, 0, false,
            DuplicateOptions.DUPLICATE_SAME_ACCESS));
        try
        {
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_MIX, KeTest.NtWaitMultiple([handle, duplicate], WaitType.WaitAll));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_PARAMETER), KeTest.WaitMultiple([duplicate, handle], waitAll: true));
        }
        finally
        {
            KeTest.Close(handle, duplicate);
        }
    }

    [Fact]
    public void The_same_handle_twice_is_allowed_in_wait_any()
    {
        var auto = KeTest.Event(manualReset: false, initialState: false);
        var set = KeTest.Event(manualReset: false, initialState: true);
        try
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0 + 2, KeTest.WaitMultiple([auto, auto, set], waitAll: false).Result);
            Assert.True(Kernel32.SetEvent(auto));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.WaitMultiple([auto, auto], waitAll: false).Result);
            Assert.Equal(0, KeTest.EventState(auto));
        }
        finally
        {
            KeTest.Close(auto, set);
        }
    }

    // ---- Handles that cannot be waited on ----

    [Fact]
    public void A_directory_handle_with_SYNCHRONIZE_is_not_waitable_STATUS_OBJECT_TYPE_MISMATCH_and_ERROR_INVALID_HANDLE()
    {
        // WRK would wait on ObpDefaultObject (always signalled) for a type without a dispatcher
        // header; KernelBridge refuses the wait as Windows refuses SignalObjectAndWait on such a handle.
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\BaseNamedObjects", out var directory,
            AccessMask.DIRECTORY_QUERY | AccessMask.SYNCHRONIZE));
        var set = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, KeTest.NtWait(directory));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.Wait(directory));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.WaitMultiple([set, directory], waitAll: false));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, KeTest.NtWaitMultiple([set, directory], WaitType.WaitAny));
        }
        finally
        {
            KeTest.Close(directory, set);
        }
    }

    [Fact]
    public void A_symbolic_link_handle_with_SYNCHRONIZE_is_not_waitable()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(EchoInterface.DosName, out var link, AccessMask.SYMBOLIC_LINK_QUERY | AccessMask.SYNCHRONIZE));
        try
        {
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, KeTest.NtWait(link));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.Wait(link));
        }
        finally
        {
            KeTest.Close(link);
        }
    }

    [Fact]
    public void A_directory_handle_without_SYNCHRONIZE_is_ERROR_ACCESS_DENIED()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\BaseNamedObjects", out var directory, AccessMask.DIRECTORY_QUERY));
        try
        {
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, KeTest.NtWait(directory));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_ACCESS_DENIED), KeTest.Wait(directory));
        }
        finally
        {
            KeTest.Close(directory);
        }
    }

    [Fact]
    public void A_handle_without_SYNCHRONIZE_is_WAIT_FAILED_with_ERROR_ACCESS_DENIED()
    {
        var name = KeTest.UniqueName("event");
        var full = KeTest.Event(manualReset: true, initialState: true, name);
        var modifyOnly = Kernel32.OpenEvent(AccessMask.EVENT_MODIFY_STATE, false, name);
        Assert.True(modifyOnly != 0, $"OpenEvent failed with {Kernel32.GetLastError()}");
        try
        {
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_ACCESS_DENIED), KeTest.Wait(modifyOnly));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, KeTest.NtWait(modifyOnly));
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_ACCESS_DENIED), KeTest.WaitMultiple([full, modifyOnly], waitAll: false));
            // What the handle was opened for still works.
            Assert.True(Kernel32.ResetEvent(modifyOnly));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(full));
        }
        finally
        {
            KeTest.Close(full, modifyOnly);
        }
    }

    [Fact]
    public void A_mutex_handle_opened_with_GENERIC_READ_cannot_be_waited_on_but_one_with_GENERIC_EXECUTE_can()
    {
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(initialOwner: false, name);
        var read = Kernel32.OpenMutex(AccessMask.GENERIC_READ, false, name);
        var execute = Kernel32.OpenMutex(AccessMask.GENERIC_EXECUTE, false, name);
        try
        {
            Assert.True(read != 0 && execute != 0, $"OpenMutex failed with {Kernel32.GetLastError()}");
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_ACCESS_DENIED), KeTest.Wait(read));
            KeTest.OnThread(() =>
            {
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(execute));
                Assert.True(Kernel32.ReleaseMutex(execute));
            });
        }
        finally
        {
            KeTest.Close(mutex, read, execute);
        }
    }

    // ---- Bad handles ----

    [Theory]
    [InlineData(0x7FFF_FFF0L)]
    [InlineData(0L)]
    public void An_invalid_handle_is_WAIT_FAILED_with_ERROR_INVALID_HANDLE(long value)
    {
        var handle = (nint)value;
        Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.Wait(handle));
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, KeTest.NtWait(handle));
        var set = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.WaitMultiple([set, handle], waitAll: false));
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, KeTest.NtWaitMultiple([set, handle], WaitType.WaitAll));
        }
        finally
        {
            KeTest.Close(set);
        }
    }

    [Fact]
    public void An_invalid_handle_with_tag_bits_is_still_ERROR_INVALID_HANDLE()
    {
        // Wine kernel32/tests/sync.c test_WaitForSingleObject, run on Windows.
        for (nint tag = 0; tag <= 3; tag++)
            Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.Wait(0x7EAD_BEE0 | tag));
    }

    [Fact]
    public void A_wait_that_succeeds_or_times_out_leaves_the_last_error_alone()
    {
        var set = KeTest.Event(manualReset: true, initialState: true);
        var unset = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            for (nint tag = 0; tag <= 3; tag++)
            {
                Assert.Equal((Kernel32.WAIT_OBJECT_0, 0xDEADBEEFu), KeTest.Wait(set | tag));
                Assert.Equal((Kernel32.WAIT_TIMEOUT, 0xDEADBEEFu), KeTest.Wait(unset | tag));
            }
            Assert.Equal((Kernel32.WAIT_OBJECT_0 + 1, 0xDEADBEEFu), KeTest.WaitMultiple([unset, set], waitAll: false));
            Assert.Equal((Kernel32.WAIT_TIMEOUT, 0xDEADBEEFu), KeTest.WaitMultiple([unset, set], waitAll: true));
        }
        finally
        {
            KeTest.Close(set, unset);
        }
    }

    [Fact]
    public void A_closed_handle_is_WAIT_FAILED_with_ERROR_INVALID_HANDLE()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        Assert.True(Kernel32.CloseHandle(handle));
        Assert.Equal((Kernel32.WAIT_FAILED, (uint)Win32Error.ERROR_INVALID_HANDLE), KeTest.Wait(handle));
    }

    [Fact]
    public void The_low_two_tag_bits_of_a_handle_are_ignored_by_a_wait()
    {
        var handle = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            for (nint tag = 1; tag <= 3; tag++)
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle | tag));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void Closing_the_handle_a_thread_is_waiting_on_does_not_end_its_wait()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), handle, Kernel32.GetCurrentProcess(), out var other, 0, false,
            DuplicateOptions.DUPLICATE_SAME_ACCESS));
        try
        {
            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(handle, 10_000));
            Assert.True(Kernel32.CloseHandle(handle));
            Thread.Sleep(KeTest.Settle);
            Assert.False(waiter.IsCompleted, "closing the handle ended the wait");
            Assert.True(Kernel32.SetEvent(other));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
        }
        finally
        {
            KeTest.Close(other);
        }
    }

    // ---- Thread objects ----

    [Fact]
    public void A_thread_handle_is_signalled_when_the_thread_exits()
    {
        using var exit = new ManualResetEventSlim();
        using var thread = new ThreadCall<uint>(() =>
        {
            var slept = Kernel32.SleepEx(0, false);
            exit.Wait(KeTest.Timeout);
            return slept;
        });
        thread.WaitStarted();
        Assert.True(KeTest.Eventually(() => thread.ThreadId != 0));
        nint handle = 0;
        try
        {
            Assert.True(KeTest.Eventually(() =>
            {
                handle = Kernel32.OpenThread(AccessMask.SYNCHRONIZE, false, (uint)thread.ThreadId);
                return handle != 0;
            }), $"OpenThread failed with {Kernel32.GetLastError()}");
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(handle, 10_000));
            exit.Set();
            Assert.Equal(0u, thread.Join());
            // The kernel notices the exit from /proc within a few seconds.
            Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
        }
        finally
        {
            exit.Set();
            KeTest.Close(handle);
        }
    }

    // ---- File objects ----

    [Fact]
    public void A_file_handle_is_signalled_when_overlapped_IO_without_an_event_completes()
    {
        var (file, error) = ObTest.CreateFile(EchoInterface.Win32Name, KbTest.ReadWrite, (uint)FileFlags.FILE_FLAG_OVERLAPPED);
        Assert.True(file != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile failed with {error}");
        var overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)sizeof(OVERLAPPED));
        var data = (byte*)NativeMemory.Alloc(5);
        try
        {
            "hello"u8.CopyTo(new Span<byte>(data, 5));
            uint written = 0;
            var ok = Kernel32.WriteFile(file, data, 5, &written, overlapped);
            Assert.True(ok || Kernel32.GetLastError() == (uint)Win32Error.ERROR_IO_PENDING, $"WriteFile failed with {Kernel32.GetLastError()}");
            Assert.Equal(Kernel32.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(file, 10_000));
            Assert.Equal(0, (int)overlapped->Internal);
            Assert.Equal(5, (int)overlapped->InternalHigh);
            uint transferred = 0;
            Assert.True(Kernel32.GetOverlappedResult(file, overlapped, &transferred, false));
            Assert.Equal(5u, transferred);
        }
        finally
        {
            NativeMemory.Free(data);
            NativeMemory.Free(overlapped);
            KeTest.Close(file);
        }
    }

    [Fact]
    public void A_file_handle_is_reset_when_overlapped_IO_starts_and_signalled_when_it_completes()
    {
        var tag = KbTest.NewTag();
        var file = KbTest.Open(tag, flags: (uint)FileFlags.FILE_FLAG_OVERLAPPED);
        var overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)sizeof(OVERLAPPED));
        var output = (byte*)NativeMemory.Alloc(16);
        try
        {
            // A request that completes at once signals the file.
            var quick = KbTest.Bytes(new ReturnRequest(0, 0, 4, PendMode.None, 0, 0x11, 4));
            fixed (byte* input = quick)
                Assert.True(Kernel32.DeviceIoControl(file, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, (uint)quick.Length, output, 16,
                    null, overlapped), $"DeviceIoControl failed with {Kernel32.GetLastError()}");
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(file));

            // A request that pends resets it; the file is signalled again when the request completes.
            var parked = KbTest.Bytes(new ReturnRequest(0, 0, 4, PendMode.Park, 0, 0x22, 4));
            fixed (byte* input = parked)
                Assert.False(Kernel32.DeviceIoControl(file, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, (uint)parked.Length, output, 16,
                    null, overlapped));
            Assert.Equal((uint)Win32Error.ERROR_IO_PENDING, Kernel32.GetLastError());
            Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(file));

            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(file, 10_000));
            Assert.False(waiter.IsCompleted);
            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 4));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
            Assert.Equal(0, (int)overlapped->Internal);
            Assert.Equal(4, (int)overlapped->InternalHigh);
        }
        finally
        {
            KeTest.Close(file);
            NativeMemory.Free(output);
            NativeMemory.Free(overlapped);
        }
    }

    // ---- Waits are parked state ----

    [Fact]
    public void Fifty_parked_waits_hold_no_kernel_thread_and_all_return_when_the_event_is_set()
    {
        const int count = 50;
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            var waiters = Parked.Start(count, () => Kernel32.WaitForSingleObject(handle, 20_000));
            Assert.DoesNotContain(waiters, w => w.IsCompleted);

            // Other calls are served while the fifty waits are parked.
            var clock = Stopwatch.StartNew();
            var other = KeTest.Event(manualReset: false, initialState: false);
            Assert.True(Kernel32.SetEvent(other));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(other));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(other, 20));
            var semaphore = KeTest.Semaphore(0, 1);
            Assert.True(Kernel32.ReleaseSemaphore(semaphore, 1, null));
            KeTest.Close(other, semaphore);
            Assert.True(clock.ElapsedMilliseconds < 5_000, $"calls beside 50 parked waits took {clock.ElapsedMilliseconds} ms");

            Assert.True(Kernel32.SetEvent(handle));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
        }
        finally
        {
            KeTest.Close(handle);
        }
    }
}
