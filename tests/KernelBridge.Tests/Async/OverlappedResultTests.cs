using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// The Win32 view of overlapped requests (kernelbase DeviceIoControl / ReadFile, GetOverlappedResult,
/// HasOverlappedIoCompleted; issue3-facts sections 1b and 2, Wine dlls/kernelbase/file.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class OverlappedResultTests
{
    [Fact]
    public void DeviceIoControl_completing_at_once_returns_TRUE_with_the_bytes_and_still_queues_a_packet_for_the_OVERLAPPED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        using var output = NativeBytes.Abcdef();
        try
        {
            AsyncTest.Associate(file, port);
            ov.Value.hEvent = ev;
            uint bytes = AsyncTest.SentinelBytes;
            Assert.True(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(0, 0, 3), output.Pointer, 7, &bytes, ov.Pointer));
            Assert.Equal(3u, bytes);
            Assert.Equal(AsyncTest.SentinelLastError, Kernel32.GetLastError());
            Assert.True(Kernel32.HasOverlappedIoCompleted(ov.Pointer));
            Assert.Equal(0, (int)ov.Value.Internal);
            Assert.Equal(3, (int)ov.Value.InternalHigh);
            Assert.True(AsyncTest.IsSignalled(ev));

            // Wine test_overlapped: the packet's lpOverlapped is &ov.
            uint count = 0;
            nuint key = 0;
            OVERLAPPED* dequeued = null;
            Assert.True(Kernel32.GetQueuedCompletionStatus(port, &count, &key, &dequeued, 5_000), $"GQCS failed: {Kernel32.GetLastError()}");
            Assert.Equal(3u, count);
            Assert.Equal(AsyncTest.Key, key);
            Assert.True(dequeued == ov.Pointer, "lpOverlapped is not the OVERLAPPED the request was issued with");
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void DeviceIoControl_failing_at_once_returns_FALSE_with_the_mapped_error_and_touches_nothing()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent(initialState: true);
        using var ov = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.Associate(file, port);
            ov.Value.hEvent = ev;
            uint bytes = AsyncTest.SentinelBytes;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_NOT_IMPLEMENTED, W.STATUS_NOT_IMPLEMENTED, 3), null, 0, &bytes, ov.Pointer));
            Assert.Equal(W.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
            Assert.Equal(AsyncTest.SentinelBytes, bytes);
            // kernelbase set Internal = STATUS_PENDING; the kernel did not write the IOSB.
            Assert.Equal(W.STATUS_PENDING, (uint)ov.Value.Internal);
            Assert.False(AsyncTest.IsSignalled(ev), "the event was not reset / was signalled by a synchronous failure");
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
    public void DeviceIoControl_with_a_warning_returns_FALSE_with_ERROR_MORE_DATA_sets_the_bytes_and_queues_a_failed_packet()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        using var output = NativeBytes.Abcdef();
        try
        {
            AsyncTest.Associate(file, port);
            ov.Value.hEvent = ev;
            uint bytes = AsyncTest.SentinelBytes;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_BUFFER_OVERFLOW, W.STATUS_BUFFER_OVERFLOW, 3), output.Pointer, 7,
                &bytes, ov.Pointer));
            Assert.Equal(W.ERROR_MORE_DATA, Kernel32.GetLastError());
            Assert.Equal(3u, bytes);
            Assert.Equal("gggdef\\0", output.Text);
            Assert.True(AsyncTest.IsSignalled(ev));

            // GetQueuedCompletionStatus: FALSE with the packet's error, and a non-null lpOverlapped.
            uint count = 0;
            nuint key = 0;
            OVERLAPPED* dequeued = null;
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.GetQueuedCompletionStatus(port, &count, &key, &dequeued, 5_000));
            Assert.Equal(W.ERROR_MORE_DATA, Kernel32.GetLastError());
            Assert.True(dequeued == ov.Pointer);
            Assert.Equal(3u, count);
            Assert.Equal(AsyncTest.Key, key);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void An_event_handle_with_the_low_bit_set_gets_its_event_signalled_but_no_port_packet()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.Associate(file, port);
            ov.Value.hEvent = ev | 1;
            uint bytes = AsyncTest.SentinelBytes;
            Assert.True(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(0, 0, 3), null, 0, &bytes, ov.Pointer));
            Assert.True(AsyncTest.IsSignalled(ev));
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
    public void A_pended_request_is_ERROR_IO_PENDING_then_IO_INCOMPLETE_until_its_completion_arrives_with_event_IOSB_and_packet()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        using var output = NativeBytes.Abcdef();
        try
        {
            AsyncTest.Associate(file, port);
            ov.Value.hEvent = ev;
            uint bytes = AsyncTest.SentinelBytes;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 5, PendMode.CompleteLater, delayMs: 700),
                output.Pointer, 7, &bytes, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            // DeviceIoControl writes Information (the pre-set 0) when the status is not an error.
            Assert.Equal(0u, bytes);
            Assert.False(Kernel32.HasOverlappedIoCompleted(ov.Pointer));
            Assert.False(AsyncTest.IsSignalled(ev));

            uint transferred = AsyncTest.SentinelBytes;
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.GetOverlappedResult(file, ov.Pointer, &transferred, false));
            Assert.Equal(W.ERROR_IO_INCOMPLETE, Kernel32.GetLastError());
            Assert.Equal(AsyncTest.SentinelBytes, transferred);
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);

            var pointer = ov.Pointer;
            var (ok, waited, error) = AsyncTest.Bounded(() =>
            {
                uint n = AsyncTest.SentinelBytes;
                var result = Kernel32.GetOverlappedResult(file, pointer, &n, true);
                return (result, n, Kernel32.GetLastError());
            });
            Assert.True(ok, $"GetOverlappedResult(wait) failed: {error}");
            Assert.Equal(5u, waited);
            Assert.True(Kernel32.HasOverlappedIoCompleted(ov.Pointer));
            Assert.Equal(0, (int)ov.Value.Internal);
            Assert.Equal(5, (int)ov.Value.InternalHigh);
            Assert.True(AsyncTest.IsSignalled(ev));
            Assert.Equal("gggggf\\0", output.Text);

            var packet = AsyncTest.Remove(port, 5_000);
            Assert.Equal(W.STATUS_SUCCESS, packet.Status);
            Assert.Equal((nint)AsyncTest.Key, packet.Key);
            Assert.Equal((nint)ov.Pointer, packet.ApcContext);
            Assert.Equal(0, packet.IosbStatus);
            Assert.Equal((nuint)5, packet.Information);

            // Once complete, no wait is needed.
            uint again = 0;
            Assert.True(Kernel32.GetOverlappedResult(file, ov.Pointer, &again, false));
            Assert.Equal(5u, again);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void Without_an_event_GetOverlappedResult_waits_on_the_file_object()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        try
        {
            uint bytes = 0;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 4, PendMode.CompleteLater, delayMs: 300),
                null, 0, &bytes, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            Assert.False(AsyncTest.IsSignalled(file));

            var pointer = ov.Pointer;
            var (ok, waited) = AsyncTest.Bounded(() =>
            {
                uint n = 0;
                return (Kernel32.GetOverlappedResult(file, pointer, &n, true), n);
            });
            Assert.True(ok);
            Assert.Equal(4u, waited);
            Assert.True(AsyncTest.IsSignalled(file), "no event: the file object must be signalled on completion");
        }
        finally
        {
            AsyncTest.Close(file);
        }
    }

    [Theory]
    [InlineData(W.STATUS_BUFFER_OVERFLOW, W.ERROR_MORE_DATA)]
    [InlineData(W.STATUS_NOT_IMPLEMENTED, W.ERROR_INVALID_FUNCTION)]
    [InlineData(W.STATUS_CANCELLED, W.ERROR_OPERATION_ABORTED)]
    public void GetOverlappedResult_of_a_pended_request_that_did_not_succeed_is_FALSE_with_the_mapped_error_and_the_bytes(uint status, uint error)
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            ov.Value.hEvent = ev;
            uint bytes = 0;
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, status, 2, PendMode.CompleteLater, delayMs: 50),
                null, 0, &bytes, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            Assert.True(AsyncTest.WaitSignalled(ev));

            uint transferred = AsyncTest.SentinelBytes;
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.GetOverlappedResult(file, ov.Pointer, &transferred, true));
            Assert.Equal(error, Kernel32.GetLastError());
            Assert.Equal(2u, transferred);
            Assert.Equal(status, (uint)ov.Value.Internal);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void GetOverlappedResultEx_times_out_with_WAIT_TIMEOUT_and_an_alertable_wait_ends_with_WAIT_IO_COMPLETION()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        try
        {
            AsyncTest.DrainApcs();
            ov.Value.hEvent = ev;
            Assert.False(AsyncTest.IssueParked(file, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            AsyncTest.WaitParked(tag, 1);

            uint n = AsyncTest.SentinelBytes;
            Assert.False(Kernel32.GetOverlappedResultEx(file, ov.Pointer, &n, 50, false));
            Assert.Equal(W.WAIT_TIMEOUT, Kernel32.GetLastError());
            Assert.Equal(AsyncTest.SentinelBytes, n);

            var ran = 0;
            Assert.True(Kernel32.QueueUserAPC(_ => ran++, Kernel32.GetCurrentThread(), 0));
            Assert.False(Kernel32.GetOverlappedResultEx(file, ov.Pointer, &n, 5_000, true));
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.GetLastError());
            Assert.Equal(1, ran);

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 9));
            Assert.True(Kernel32.GetOverlappedResultEx(file, ov.Pointer, &n, 5_000, false));
            Assert.Equal(9u, n);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.DrainApcs();
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void ReadFile_with_an_OVERLAPPED_at_end_of_file_is_FALSE_with_ERROR_HANDLE_EOF_at_once_or_through_GetOverlappedResult()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(8);
        try
        {
            ov.Value.hEvent = ev;
            // At once: the driver fails the read with STATUS_END_OF_FILE without pending.
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_END_OF_FILE, W.STATUS_END_OF_FILE, 0));
            uint read = AsyncTest.SentinelBytes;
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.ReadFile(file, buffer.Pointer, 8, &read, ov.Pointer));
            Assert.Equal(W.ERROR_HANDLE_EOF, Kernel32.GetLastError());
            Assert.Equal(0u, read);

            // Pended: ERROR_IO_PENDING (bytes 0 meanwhile), then GetOverlappedResult says EOF.
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, W.STATUS_END_OF_FILE, 0, PendMode.CompleteLater, delayMs: 50));
            read = AsyncTest.SentinelBytes;
            Assert.False(Kernel32.ReadFile(file, buffer.Pointer, 8, &read, ov.Pointer));
            Assert.Equal(W.ERROR_IO_PENDING, Kernel32.GetLastError());
            Assert.Equal(0u, read);
            Assert.True(AsyncTest.WaitSignalled(ev));
            uint transferred = AsyncTest.SentinelBytes;
            Assert.False(Kernel32.GetOverlappedResult(file, ov.Pointer, &transferred, true));
            Assert.Equal(W.ERROR_HANDLE_EOF, Kernel32.GetLastError());
            Assert.Equal(0u, transferred);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void WriteFile_and_ReadFile_with_an_OVERLAPPED_complete_at_once_and_report_the_bytes()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent();
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(5);
        try
        {
            ov.Value.hEvent = ev;
            "hello"u8.CopyTo(buffer.Span);
            uint written = AsyncTest.SentinelBytes;
            Assert.True(Kernel32.WriteFile(file, buffer.Pointer, 5, &written, ov.Pointer), $"WriteFile: {Kernel32.GetLastError()}");
            Assert.Equal(5u, written);
            Assert.True(AsyncTest.IsSignalled(ev));

            buffer.Span.Clear();
            uint read = AsyncTest.SentinelBytes;
            Assert.True(Kernel32.ReadFile(file, buffer.Pointer, 5, &read, ov.Pointer), $"ReadFile: {Kernel32.GetLastError()}");
            Assert.Equal(5u, read);
            Assert.Equal("hello", buffer.Text);
            uint transferred = 0;
            Assert.True(Kernel32.GetOverlappedResult(file, ov.Pointer, &transferred, false));
            Assert.Equal(5u, transferred);
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void Overlapped_requests_on_one_handle_complete_independently_each_on_its_own_OVERLAPPED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var slowEvent = AsyncTest.NewEvent();
        var fastEvent = AsyncTest.NewEvent();
        using var slow = new Native<OVERLAPPED>();
        using var fast = new Native<OVERLAPPED>();
        try
        {
            slow.Value.hEvent = slowEvent;
            fast.Value.hEvent = fastEvent;
            uint bytes = 0;
            var watch = Stopwatch.StartNew();
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 1, PendMode.CompleteLater, delayMs: 800), null, 0,
                &bytes, slow.Pointer));
            Assert.False(AsyncTest.Win32ReturnIoctl(file, AsyncTest.Request(W.STATUS_PENDING, 0, 2, PendMode.CompleteLater, delayMs: 20), null, 0,
                &bytes, fast.Pointer));
            Assert.True(AsyncTest.WaitSignalled(fastEvent));
            Assert.True(Kernel32.HasOverlappedIoCompleted(fast.Pointer));
            Assert.Equal(2, (int)fast.Value.InternalHigh);
            if (watch.ElapsedMilliseconds < 700) Assert.False(Kernel32.HasOverlappedIoCompleted(slow.Pointer), "the slow request finished early");
            Assert.True(AsyncTest.WaitSignalled(slowEvent));
            Assert.Equal(1, (int)slow.Value.InternalHigh);
        }
        finally
        {
            AsyncTest.Close(slowEvent);
            AsyncTest.Close(fastEvent);
            AsyncTest.Close(file);
        }
    }
}
