using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Stack;

namespace KernelBridge.Tests.Samples;

/// <summary>
/// The event sample (Windows-driver-samples general/event, in C#, built into every kernel as
/// \Device\Event_Sample): the inverted call, IRP-based and event-based. The expectations are the
/// sample's own behaviour (event.c, eventtest.c; /tmp/research/issue3-facts.md section 8) and the
/// I/O manager's (sections 1, 2 and 5): REGISTER_EVENT = {Type, hEvent, DueTime} (24 bytes on x64),
/// IOCTL 0x222000; a short input or an unknown type is STATUS_INVALID_PARAMETER, an unknown IOCTL
/// STATUS_NOT_IMPLEMENTED; the event handle is referenced with SYNCHRONIZE | EVENT_MODIFY_STATE as an
/// Event, in the caller's context and access mode; cleanup completes the file's pended IRPs with
/// STATUS_CANCELLED and drops its events unsignalled.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class EventSampleTests(KernelFixture fixture)
{
    private const int IrpBased = 0;
    private const int EventBased = 1;

    /// <summary>REGISTER_EVENT as public.h lays it out on x64: Type at 0, hEvent at 8, DueTime at 16.</summary>
    private static byte[] Register(int type, nint eventHandle, TimeSpan due, bool relative = true)
    {
        var input = new byte[24];
        MemoryMarshal.Write(input, type);
        MemoryMarshal.Write(input.AsSpan(8), (long)eventHandle);
        MemoryMarshal.Write(input.AsSpan(16), relative ? -due.Ticks : due.Ticks);
        return input;
    }

    private static nint OpenSample(uint flags = 0) => StackTest.MustOpen(EventSampleInterface.Win32Name, flags);

    private static Task<nint> OpenSampleAsync(uint flags = 0) => StackTest.Bounded(() => OpenSample(flags));

    private static Task<bool> Close(nint handle) => StackTest.Bounded(() => Kernel32.CloseHandle(handle));

    [Fact]
    public void The_interface_matches_the_sample()
    {
        Assert.Equal(WinValues.IOCTL_REGISTER_EVENT, EventSampleInterface.IOCTL_REGISTER_EVENT.Value);
        Assert.Equal(24, Marshal.SizeOf<RegisterEvent>());
        Assert.Equal(Register(EventBased, 0x1234, TimeSpan.FromSeconds(1)),
            KbTest.Bytes(new RegisterEvent(NotifyType.EventBased, 0x1234, -TimeSpan.FromSeconds(1).Ticks)));
    }

    // ---- IRP-based ----

    [Fact]
    public async Task IRP_based_on_a_synchronous_handle_blocks_about_the_due_time_then_succeeds()
    {
        var handle = await OpenSampleAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            var (ok, error, returned, _) = await StackTest.Bounded(() =>
                StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT, Register(IrpBased, 0, TimeSpan.FromMilliseconds(400)), 0));
            watch.Stop();
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            Assert.Equal(0u, returned);
            Assert.InRange(watch.ElapsedMilliseconds, 350, 10_000);
        }
        finally
        {
            await Close(handle);
        }
    }

    [Fact]
    public async Task IRP_based_on_an_overlapped_handle_is_ERROR_IO_PENDING_and_the_event_is_signalled_at_the_due_time()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        // Long enough that a loaded machine still sees it pending right after the call.
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromMilliseconds(2000)), 0));
        try
        {
            var watch = Stopwatch.StartNew();
            var (ok, error) = await StackTest.Issue(() => io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT));
            Assert.False(ok);
            Assert.Equal(WinValues.ERROR_IO_PENDING, error);
            Assert.Equal(WinValues.STATUS_PENDING, io.Internal);
            var (notYet, notYetError, _) = await StackTest.Bounded(() => io.Result(handle, 0));
            Assert.False(notYet);
            Assert.Equal(WinValues.ERROR_IO_INCOMPLETE, notYetError);

            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(io.Event, 10_000)));
            watch.Stop();
            Assert.InRange(watch.ElapsedMilliseconds, 1900, 12_000);
            var (done, doneError, bytes) = await StackTest.Bounded(() => io.Result(handle, 0));
            Assert.True(done, $"GetOverlappedResult failed with {doneError}");
            Assert.Equal(0u, bytes);
            Assert.Equal(WinValues.STATUS_SUCCESS, io.Internal);
        }
        finally
        {
            await Close(handle);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    [Fact]
    public async Task IRP_based_without_an_event_GetOverlappedResult_waits_on_the_file_handle()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromMilliseconds(300)), 0, withEvent: false));
        try
        {
            var (ok, error) = await StackTest.Issue(() => io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT));
            Assert.False(ok);
            Assert.Equal(WinValues.ERROR_IO_PENDING, error);
            var (done, doneError, _) = await StackTest.Bounded(() => io.Result(handle, 10_000));
            Assert.True(done, $"GetOverlappedResultEx failed with {doneError}");
            Assert.Equal(WinValues.STATUS_SUCCESS, io.Internal);
        }
        finally
        {
            await Close(handle);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    [Fact]
    public async Task Two_IRP_based_registrations_on_one_handle_complete_in_due_time_order()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var late = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromMilliseconds(4000)), 0));
        var early = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromMilliseconds(200)), 0));
        try
        {
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), await StackTest.Issue(() => late.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT)));
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), await StackTest.Issue(() => early.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT)));
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(early.Event, 10_000)));
            Assert.Equal(WinValues.STATUS_PENDING, late.Internal);
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(late.Event, 10_000)));
            Assert.Equal(WinValues.STATUS_SUCCESS, late.Internal);
        }
        finally
        {
            await Close(handle);
            if (await StackTest.EventuallyAsync(() => late.Internal != WinValues.STATUS_PENDING && early.Internal != WinValues.STATUS_PENDING))
            {
                late.Dispose();
                early.Dispose();
            }
        }
    }

    [Fact]
    public async Task CancelIoEx_cancels_a_pended_registration_well_before_its_due_time_with_ERROR_OPERATION_ABORTED()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromSeconds(30)), 0));
        try
        {
            var watch = Stopwatch.StartNew();
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), await StackTest.Issue(() => io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT)));
            Assert.Equal((true, 0xDEADBEEFu), await StackTest.Bounded(() => io.CancelIoEx(handle)));
            var (done, error, bytes) = await StackTest.Bounded(() => io.Result(handle, 10_000));
            watch.Stop();
            Assert.False(done);
            Assert.Equal(WinValues.ERROR_OPERATION_ABORTED, error);
            Assert.Equal(0u, bytes);
            Assert.Equal(WinValues.STATUS_CANCELLED, io.Internal);
            Assert.True(watch.ElapsedMilliseconds < 10_000, $"the cancellation took {watch.ElapsedMilliseconds} ms");

            // Nothing left to cancel: ERROR_NOT_FOUND, and the OVERLAPPED is left alone.
            var again = await StackTest.Bounded(() => io.CancelIoEx(handle));
            Assert.Equal((false, WinValues.ERROR_NOT_FOUND), again);
            Assert.Equal(WinValues.STATUS_CANCELLED, io.Internal);
        }
        finally
        {
            await Close(handle);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    /// <summary>CancelIo cancels the calling thread's I/O on the file and returns once it has completed (NtCancelIoFile).</summary>
    [Fact]
    public async Task CancelIo_from_the_issuing_thread_cancels_the_pended_registration_before_it_returns()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromSeconds(30)), 0));
        try
        {
            var (issued, cancelled, internalAfterCancel) = await StackTest.Bounded(() =>
            {
                var issue = io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT);
                var cancel = Kernel32.CancelIo(handle);
                return (issue, cancel, io.Internal);
            });
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), issued);
            Assert.True(cancelled);
            Assert.Equal(WinValues.STATUS_CANCELLED, internalAfterCancel);
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(io.Event, 10_000)));
        }
        finally
        {
            await Close(handle);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    /// <summary>The driver's IRP_MJ_CLEANUP completes the closing file's pended IRPs with STATUS_CANCELLED (event.c EventCleanup).</summary>
    [Fact]
    public async Task Closing_the_handle_completes_its_pended_registration_with_STATUS_CANCELLED()
    {
        var handle = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromSeconds(30)), 0));
        try
        {
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), await StackTest.Issue(() => io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT)));
            var watch = Stopwatch.StartNew();
            await Close(handle);
            handle = 0;
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(io.Event, 10_000)));
            watch.Stop();
            Assert.Equal(WinValues.STATUS_CANCELLED, io.Internal);
            Assert.Equal(0, io.InternalHigh);
            Assert.True(watch.ElapsedMilliseconds < 10_000);
        }
        finally
        {
            if (handle != 0) await Close(handle);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    /// <summary>Cleanup only concerns the closing file object: another handle's registration still completes at its due time.</summary>
    [Fact]
    public async Task Closing_one_handle_leaves_another_handles_pended_registration_alone()
    {
        var first = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var second = await OpenSampleAsync(WinValues.FILE_FLAG_OVERLAPPED);
        var io = await StackTest.Bounded(() => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromMilliseconds(2000)), 0));
        try
        {
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), await StackTest.Issue(() => io.DeviceIoControl(first, WinValues.IOCTL_REGISTER_EVENT)));
            await Close(second);
            second = 0;
            Assert.Equal(WinValues.STATUS_PENDING, io.Internal);
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(io.Event, 10_000)));
            Assert.Equal(WinValues.STATUS_SUCCESS, io.Internal);
        }
        finally
        {
            await Close(first);
            if (second != 0) await Close(second);
            if (await StackTest.EventuallyAsync(() => io.Internal != WinValues.STATUS_PENDING)) io.Dispose();
        }
    }

    /// <summary>
    /// A process that goes away with a registration of each kind outstanding: process rundown
    /// cancels its I/O and closes its handles (cleanup drops the event-based record and its event
    /// reference), so the kernel's IRP, handle, file, event and process counts return to what they were.
    /// </summary>
    [Fact]
    public async Task A_client_that_goes_away_with_registrations_outstanding_leaves_nothing_behind()
    {
        var baseline = await StackTest.Bounded(() => KernelControl.QueryState());
        var client = GateClient.Connect(fixture.Instance, autoStart: false);
        OverlappedIo? io = null;
        try
        {
            var handle = await StackTest.RunBlocking(client, () => OpenSample(WinValues.FILE_FLAG_OVERLAPPED)).WaitAsync(StackTest.Timeout);
            io = await StackTest.RunBlocking(client, () => new OverlappedIo(Register(IrpBased, 0, TimeSpan.FromSeconds(30)), 0))
                .WaitAsync(StackTest.Timeout);
            var issued = await StackTest.RunBlocking(client, () => io.DeviceIoControl(handle, WinValues.IOCTL_REGISTER_EVENT)).WaitAsync(StackTest.Timeout);
            Assert.Equal((false, WinValues.ERROR_IO_PENDING), issued);
            var registered = await StackTest.RunBlocking(client, () =>
            {
                var kernelEvent = Kernel32.CreateEvent(0, true, false, null);
                return StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT, Register(EventBased, kernelEvent, TimeSpan.FromSeconds(30)), 0);
            }).WaitAsync(StackTest.Timeout);
            Assert.True(registered.Ok, $"the event-based registration failed with {registered.Error}");

            var during = await StackTest.Bounded(() => KernelControl.QueryState());
            Assert.True(during.PendingIrps >= baseline.PendingIrps + 1, $"pending IRPs: {baseline.PendingIrps} before, {during.PendingIrps} now");
        }
        finally
        {
            client.Dispose();
        }
        Assert.True(await StackTest.EventuallyAsync(() => SameCounts(baseline, KernelControl.QueryState())),
            $"before: {Describe(baseline)}; after: {Describe(KernelControl.QueryState())}");
        io?.FreeMemoryOnly();
    }

    /// <summary>
    /// IRPs, handles, and objects of every type but Thread (a thread object appears for each new
    /// thread that calls the kernel, and the shared connection's callers come and go).
    /// </summary>
    internal static bool SameCounts(KernelState before, KernelState now) =>
        now.PendingIrps == before.PendingIrps && now.Handles == before.Handles
        && now.Objects - StackTest.TypeCount(now, "Thread").Objects == before.Objects - StackTest.TypeCount(before, "Thread").Objects
        && StackTest.TypeCount(now, "File") == StackTest.TypeCount(before, "File")
        && StackTest.TypeCount(now, "Event") == StackTest.TypeCount(before, "Event")
        && StackTest.TypeCount(now, "Process") == StackTest.TypeCount(before, "Process");

    internal static string Describe(KernelState state) =>
        $"irps {state.PendingIrps}, handles {state.Handles}, objects {state.Objects} ({StackTest.TypeCount(state, "Thread").Objects} threads), files {StackTest.TypeCount(state, "File")}, events {StackTest.TypeCount(state, "Event")}, processes {StackTest.TypeCount(state, "Process")}";

    // ---- Event-based ----

    [Fact]
    public async Task Event_based_the_IOCTL_returns_at_once_and_the_event_is_signalled_after_the_due_time()
    {
        var handle = await OpenSampleAsync();
        var kernelEvent = await StackTest.Bounded(() => Kernel32.CreateEvent(0, true, false, null));
        try
        {
            var watch = Stopwatch.StartNew();
            var (ok, error, returned, _) = await StackTest.Bounded(() =>
                StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT, Register(EventBased, kernelEvent, TimeSpan.FromMilliseconds(500)), 0));
            var returnedAfter = watch.ElapsedMilliseconds;
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            Assert.Equal(0u, returned);
            Assert.True(returnedAfter < 450, $"the IOCTL took {returnedAfter} ms: it waited for the timer");
            Assert.Equal(WinValues.WAIT_TIMEOUT, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(kernelEvent, 0)));
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(kernelEvent, 10_000)));
            watch.Stop();
            Assert.InRange(watch.ElapsedMilliseconds, 450, 10_000);
        }
        finally
        {
            await Close(handle);
            await Close(kernelEvent);
        }
    }

    /// <summary>The sample negates a positive (absolute) due time, so it is always relative: +300 ms fires in 300 ms, not at once.</summary>
    [Fact]
    public async Task Event_based_a_positive_due_time_is_taken_as_relative()
    {
        var handle = await OpenSampleAsync();
        var kernelEvent = await StackTest.Bounded(() => Kernel32.CreateEvent(0, true, false, null));
        try
        {
            var watch = Stopwatch.StartNew();
            var (ok, error, _, _) = await StackTest.Bounded(() => StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT,
                Register(EventBased, kernelEvent, TimeSpan.FromMilliseconds(400), relative: false), 0));
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            Assert.Equal(WinValues.WAIT_OBJECT_0, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(kernelEvent, 10_000)));
            watch.Stop();
            Assert.InRange(watch.ElapsedMilliseconds, 350, 10_000);
        }
        finally
        {
            await Close(handle);
            await Close(kernelEvent);
        }
    }

    /// <summary>
    /// Cleanup cancels the file's timers and dereferences their events without signalling them; the
    /// event object goes once the application closes its handle too (the driver kept no reference).
    /// </summary>
    [Fact]
    public async Task Event_based_then_the_handle_closed_before_the_due_time_the_event_is_never_signalled_and_the_driver_lets_go_of_it()
    {
        var baseline = await StackTest.Bounded(() => KernelControl.QueryState());
        var handle = await OpenSampleAsync();
        var kernelEvent = await StackTest.Bounded(() => Kernel32.CreateEvent(0, true, false, null));
        try
        {
            var (ok, error, _, _) = await StackTest.Bounded(() =>
                StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT, Register(EventBased, kernelEvent, TimeSpan.FromMilliseconds(300)), 0));
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            await Close(handle);
            handle = 0;
            Assert.Equal(WinValues.WAIT_TIMEOUT, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(kernelEvent, 900)));
        }
        finally
        {
            if (handle != 0) await Close(handle);
            await Close(kernelEvent);
        }
        Assert.True(await StackTest.EventuallyAsync(() => SameCounts(baseline, KernelControl.QueryState())),
            $"before: {Describe(baseline)}; after: {Describe(KernelControl.QueryState())}");
    }

    [Fact]
    public async Task Event_based_with_the_event_handle_closed_by_the_application_the_driver_reference_keeps_the_event_until_it_fires()
    {
        var baseline = await StackTest.Bounded(() => KernelControl.QueryState());
        var handle = await OpenSampleAsync();
        try
        {
            var (ok, error, _, _) = await StackTest.Bounded(() =>
            {
                var kernelEvent = Kernel32.CreateEvent(0, true, false, null);
                var result = StackTest.SyncIoctl(handle, WinValues.IOCTL_REGISTER_EVENT, Register(EventBased, kernelEvent, TimeSpan.FromMilliseconds(1000)), 0);
                Kernel32.CloseHandle(kernelEvent);
                return result;
            });
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            var held = await StackTest.Bounded(() => KernelControl.QueryState());
            Assert.Equal(StackTest.TypeCount(baseline, "Event").Objects + 1, StackTest.TypeCount(held, "Event").Objects);
            Assert.True(await StackTest.EventuallyAsync(() =>
                StackTest.TypeCount(KernelControl.QueryState(), "Event").Objects == StackTest.TypeCount(baseline, "Event").Objects),
                "the driver kept its reference on the event after the DPC");
        }
        finally
        {
            await Close(handle);
        }
    }

    // ---- Bad input ----

    private static async Task<(bool Ok, uint Error, NtStatus Status)> RegisterAndFail(byte[] input, uint code = WinValues.IOCTL_REGISTER_EVENT)
    {
        var handle = await OpenSampleAsync();
        try
        {
            return await StackTest.Bounded(() =>
            {
                var (ok, error, _, _) = StackTest.SyncIoctl(handle, code, input, 0);
                IO_STATUS_BLOCK iosb = default;
                var status = KbTest.Ioctl(handle, new CtlCode(code), input, null, ref iosb);
                return (ok, error, status);
            });
        }
        finally
        {
            await Close(handle);
        }
    }

    [Fact]
    public async Task Event_based_with_an_invalid_handle_is_ERROR_INVALID_HANDLE()
    {
        var (ok, error, status) = await RegisterAndFail(Register(EventBased, 0x7FF0, TimeSpan.FromMilliseconds(100)));
        Assert.False(ok);
        Assert.Equal(WinValues.ERROR_INVALID_HANDLE, error);
        Assert.Equal(WinValues.STATUS_INVALID_HANDLE, status.Code);
    }

    [Fact]
    public async Task Event_based_with_a_null_handle_is_ERROR_INVALID_HANDLE()
    {
        var (ok, error, status) = await RegisterAndFail(Register(EventBased, 0, TimeSpan.FromMilliseconds(100)));
        Assert.False(ok);
        Assert.Equal(WinValues.ERROR_INVALID_HANDLE, error);
        Assert.Equal(WinValues.STATUS_INVALID_HANDLE, status.Code);
    }

    /// <summary>ObReferenceObjectByHandle with ExEventObjectType on a mutex: STATUS_OBJECT_TYPE_MISMATCH, which Win32 reports as ERROR_INVALID_HANDLE.</summary>
    [Fact]
    public async Task Event_based_with_a_mutex_handle_is_STATUS_OBJECT_TYPE_MISMATCH_ERROR_INVALID_HANDLE()
    {
        var mutex = await StackTest.Bounded(() => Kernel32.CreateMutex(0, false, null));
        Assert.True(mutex != 0, "CreateMutex failed");
        try
        {
            var (ok, error, status) = await RegisterAndFail(Register(EventBased, mutex, TimeSpan.FromMilliseconds(100)));
            Assert.False(ok);
            Assert.Equal(WinValues.ERROR_INVALID_HANDLE, error);
            Assert.Equal(WinValues.STATUS_OBJECT_TYPE_MISMATCH, status.Code);
        }
        finally
        {
            await Close(mutex);
        }
    }

    /// <summary>
    /// The sample references the event with Irp->RequestorMode (UserMode for an application), so the
    /// handle's granted access is checked: a handle with SYNCHRONIZE alone lacks EVENT_MODIFY_STATE.
    /// </summary>
    [Fact]
    public async Task Event_based_with_an_event_handle_lacking_EVENT_MODIFY_STATE_is_ERROR_ACCESS_DENIED()
    {
        var kernelEvent = await StackTest.Bounded(() => Kernel32.CreateEvent(0, true, false, null));
        nint weak = 0;
        try
        {
            Assert.True(await StackTest.Bounded(() => Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), kernelEvent, Kernel32.GetCurrentProcess(),
                out weak, WinValues.SYNCHRONIZE, false, 0)));
            var (ok, error, status) = await RegisterAndFail(Register(EventBased, weak, TimeSpan.FromMilliseconds(100)));
            Assert.False(ok);
            Assert.Equal(WinValues.ERROR_ACCESS_DENIED, error);
            Assert.Equal(WinValues.STATUS_ACCESS_DENIED, status.Code);
            Assert.Equal(WinValues.WAIT_TIMEOUT, await StackTest.Bounded(() => Kernel32.WaitForSingleObject(kernelEvent, 300)));
        }
        finally
        {
            if (weak != 0) await Close(weak);
            await Close(kernelEvent);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(23)]
    public async Task Input_shorter_than_REGISTER_EVENT_is_ERROR_INVALID_PARAMETER(int length)
    {
        var (ok, error, status) = await RegisterAndFail(Register(IrpBased, 0, TimeSpan.FromMilliseconds(100))[..length]);
        Assert.False(ok);
        Assert.Equal(WinValues.ERROR_INVALID_PARAMETER, error);
        Assert.Equal(WinValues.STATUS_INVALID_PARAMETER, status.Code);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    public async Task An_unknown_notify_type_is_ERROR_INVALID_PARAMETER(int type)
    {
        var (ok, error, status) = await RegisterAndFail(Register(type, 0, TimeSpan.FromMilliseconds(100)));
        Assert.False(ok);
        Assert.Equal(WinValues.ERROR_INVALID_PARAMETER, error);
        Assert.Equal(WinValues.STATUS_INVALID_PARAMETER, status.Code);
    }

    [Fact]
    public async Task An_unknown_IOCTL_is_STATUS_NOT_IMPLEMENTED_ERROR_INVALID_FUNCTION()
    {
        // CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
        var (ok, error, status) = await RegisterAndFail(Register(IrpBased, 0, TimeSpan.FromMilliseconds(100)), 0x00222004);
        Assert.False(ok);
        Assert.Equal(WinValues.ERROR_INVALID_FUNCTION, error);
        Assert.Equal(WinValues.STATUS_NOT_IMPLEMENTED, status.Code);
    }
}
