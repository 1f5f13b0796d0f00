using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// SetFileCompletionNotificationModes (issue3-facts section 3; Microsoft docs, Wine ntoskrnl.c
/// do_return_status with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, ntdll/tests/pipe.c). Skip-on-success
/// drops the packet only for a request that did not pend and whose IOSB status is NT_SUCCESS
/// (Windows 8+: a non-pended warning still queues one); the explicit event is still signalled.
/// Skip-set-event-on-handle leaves the file object unsignalled.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class CompletionModeTests
{
    public static TheoryData<uint, uint, PendMode, bool> SkipCases() => new()
    {
        // R, S, pend, packet expected
        { 0, 0, PendMode.None, false },
        { 0x4EADBEEF, 0x4EADBEEF, PendMode.None, false },
        { W.STATUS_TIMEOUT, W.STATUS_TIMEOUT, PendMode.None, false },
        // The IOSB status decides, not the return value.
        { W.STATUS_NOT_IMPLEMENTED, 0, PendMode.None, false },
        { 0, W.STATUS_BUFFER_OVERFLOW, PendMode.None, true },
        { W.STATUS_BUFFER_OVERFLOW, W.STATUS_BUFFER_OVERFLOW, PendMode.None, true },
        { 0x8EADBEEF, 0x8EADBEEF, PendMode.None, true },
        { 0, W.STATUS_NOT_IMPLEMENTED, PendMode.None, false },
        // Pended: always a packet.
        { 0, 0, PendMode.MarkPendingCompleteInline, true },
        { W.STATUS_PENDING, 0, PendMode.MarkPendingCompleteInline, true },
        { W.STATUS_PENDING, W.STATUS_NOT_IMPLEMENTED, PendMode.MarkPendingCompleteInline, true },
        { W.STATUS_PENDING, 0, PendMode.CompleteLater, true },
    };

    [Theory]
    [MemberData(nameof(SkipCases))]
    public void Skip_completion_port_on_success(uint r, uint s, PendMode pend, bool packetExpected)
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.Associate(file, port);
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, W.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS),
                $"SetFileCompletionNotificationModes: {Kernel32.GetLastError()}");
            iosb.Value = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
            var returned = AsyncTest.NtReturnIoctl(file, ev, 0, AsyncTest.ApcContext, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(r, s, 3, pend, delayMs: 30), null, 0);
            Assert.Equal(pend == PendMode.CompleteLater ? W.STATUS_PENDING : r, returned);
            var delivered = pend != PendMode.None || !W.NT_ERROR(s);
            if (delivered)
            {
                // The event is signalled whatever the mode.
                Assert.True(AsyncTest.WaitSignalled(ev, 10_000), "the event was not signalled");
                Assert.Equal(s, (uint)iosb.Value.Status);
            }
            var packet = AsyncTest.Remove(port, packetExpected ? 5_000u : 0u);
            if (packetExpected)
            {
                Assert.Equal(W.STATUS_SUCCESS, packet.Status);
                Assert.Equal(s, (uint)packet.IosbStatus);
                Assert.Equal(AsyncTest.ApcContext, packet.ApcContext);
            }
            else
            {
                Assert.True(packet.Status == W.STATUS_TIMEOUT, $"no packet expected, got {packet}");
            }
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Skip_on_success_makes_a_Win32_overlapped_IOCTL_that_succeeds_at_once_queue_nothing()
    {
        // Wine test_overlapped: GQCS(timeout 0) then fails with WAIT_TIMEOUT.
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.Associate(file, port);
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, W.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
            ov.Value.hEvent = ev;
            uint bytes = 0;
            Assert.True(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(0, 0, 3), null, 0, &bytes, ov.Pointer));
            Assert.True(AsyncTest.IsSignalled(ev));
            uint count = 0;
            nuint key = 0;
            OVERLAPPED* dequeued = (OVERLAPPED*)1;
            Assert.False(Kernel32.GetQueuedCompletionStatus(port, &count, &key, &dequeued, 0));
            Assert.Equal(W.WAIT_TIMEOUT, Kernel32.GetLastError());
            Assert.True(dequeued == null);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Modes_are_only_ever_added()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.Associate(file, port);
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, W.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, 0));
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, 0, 0, AsyncTest.ApcContext, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0));
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Theory]
    [InlineData(PendMode.None)]
    [InlineData(PendMode.MarkPendingCompleteInline)]
    [InlineData(PendMode.CompleteLater)]
    public void Skip_set_event_on_handle_leaves_the_file_object_unsignalled(PendMode pend)
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var control = AsyncTest.OpenOverlapped(tag);
        using var iosb = new Native<IO_STATUS_BLOCK>();
        using var controlIosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, W.FILE_SKIP_SET_EVENT_ON_HANDLE));
            var r = pend == PendMode.None ? W.STATUS_SUCCESS : W.STATUS_PENDING;
            var request = AsyncTest.Request(r, 0, 3, pend, delayMs: 30);

            // The same request on a handle without the mode signals its file object: the control.
            Assert.Equal(r, AsyncTest.NtReturnIoctl(control, 0, 0, 0, controlIosb.Pointer, TransferMethod.METHOD_BUFFERED, request, null, 0));
            Assert.True(AsyncTest.WaitSignalled(control, 10_000), "the control handle was not signalled");

            iosb.Value.Status = (int)W.STATUS_PENDING;
            Assert.Equal(r, AsyncTest.NtReturnIoctl(file, 0, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED, request, null, 0));
            Assert.True(KbTest.Eventually(() => Kernel32.HasOverlappedIoCompleted((OVERLAPPED*)iosb.Pointer)), "the request never completed");
            Assert.Equal(0, iosb.Value.Status);
            Assert.Equal(W.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(file, 100));
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(control);
        }
    }

    [Fact]
    public void Skip_set_event_on_handle_still_signals_an_explicit_event()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            Assert.True(Kernel32.SetFileCompletionNotificationModes(file, W.FILE_SKIP_SET_EVENT_ON_HANDLE));
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, ev, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0));
            Assert.True(AsyncTest.IsSignalled(ev));
            Assert.False(AsyncTest.IsSignalled(file));
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }
}
