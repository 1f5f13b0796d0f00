using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// Who hears of a completion (issue3-facts sections 1b, 2, 3; WRK IopXxxControlFile and
/// IopCompleteRequest, Wine ntdll/tests/file.c test_file_io_completion): the event handle is
/// checked before the driver is called; a packet needs a port and a non-null ApcContext; an APC
/// wins over the port; the port is looked up when the request completes, so a file associated
/// after it issued a request still gets its packet.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class CompletionTargetTests
{
    [Fact]
    public void An_event_handle_that_is_not_an_event_fails_the_call_before_the_driver_sees_it()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            iosb.Value = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
            var returned = AsyncTest.NtReturnIoctl(file, port, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED, AsyncTest.Request(0, 0, 3), null, 0);
            Assert.Equal(0xC0000024u, returned); // STATUS_OBJECT_TYPE_MISMATCH
            Assert.Equal(AsyncTest.SentinelStatus, iosb.Value.Status);
            Assert.Equal(0, KbTest.Counters(tag).DeviceControls);
        }
        finally
        {
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_event_handle_without_EVENT_MODIFY_STATE_is_STATUS_ACCESS_DENIED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        nint weak = 0;
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), ev, Kernel32.GetCurrentProcess(), out weak, AccessMask.SYNCHRONIZE, false, 0));
            var returned = AsyncTest.NtReturnIoctl(file, weak, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED, AsyncTest.Request(0, 0, 3), null, 0);
            Assert.Equal(0xC0000022u, returned); // STATUS_ACCESS_DENIED
            Assert.Equal(0, KbTest.Counters(tag).DeviceControls);
        }
        finally
        {
            AsyncTest.Close(weak);
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void With_an_APC_and_an_event_the_event_is_signalled_the_file_is_not_and_the_APC_runs_once()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.DrainApcs();
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, ev, ApcRecorder.Routine, 9, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0));
            Assert.True(AsyncTest.IsSignalled(ev));
            Assert.False(AsyncTest.IsSignalled(file));
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            var call = Assert.Single(ApcRecorder.Snapshot());
            Assert.Equal(9, call.ApcContext);
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_null_ApcContext_queues_no_packet_on_an_associated_handle()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.Associate(file, port);
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, ev, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0));
            Assert.True(AsyncTest.IsSignalled(ev));
            Assert.Equal(0, iosb.Value.Status);
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void A_request_issued_before_the_file_was_associated_completes_to_the_port()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            Assert.Equal(W.STATUS_PENDING, AsyncTest.NtReturnIoctl(file, 0, 0, 0x55, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0), null, 0));
            AsyncTest.WaitParked(tag, 1);
            AsyncTest.Associate(file, port);
            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 6));
            var packet = AsyncTest.Remove(port, 5_000);
            Assert.Equal(W.STATUS_SUCCESS, packet.Status);
            Assert.Equal((nint)AsyncTest.Key, packet.Key);
            Assert.Equal(0x55, packet.ApcContext);
            Assert.Equal((nuint)6, packet.Information);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void A_request_issued_with_an_APC_before_the_file_was_associated_still_delivers_the_APC_and_no_packet()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.DrainApcs();
            Assert.Equal(W.STATUS_PENDING, AsyncTest.NtReturnIoctl(file, 0, ApcRecorder.Routine, 0x66, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(W.STATUS_PENDING, 0, 0, PendMode.Park, fillLength: 0), null, 0));
            AsyncTest.WaitParked(tag, 1);
            AsyncTest.Associate(file, port);
            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 2));
            Assert.True(AsyncTest.WaitSignalled(file));
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            var call = Assert.Single(ApcRecorder.Snapshot());
            Assert.Equal(0x66, call.ApcContext);
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void IO_on_a_file_whose_port_handle_was_closed_still_completes()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var iosb = new Native<IO_STATUS_BLOCK>();
        try
        {
            AsyncTest.Associate(file, port);
            Assert.True(Kernel32.CloseHandle(port));
            port = 0;
            Assert.Equal(W.STATUS_SUCCESS, AsyncTest.NtReturnIoctl(file, ev, 0, 1, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0));
            Assert.True(AsyncTest.IsSignalled(ev));
            Assert.Equal(3, (int)iosb.Value.Information);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }
}
