using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// ReadFileEx / WriteFileEx (issue3-facts section 4; Wine dlls/kernelbase/file.c ReadFileEx and
/// read_write_apc, Microsoft docs): the completion routine runs once, on the issuing thread, in an
/// alertable wait, with dwErrorCode = RtlNtStatusToDosError(IOSB.Status) and the IOSB's byte count;
/// a synchronous NT_ERROR is FALSE with the mapped error and the routine never runs.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class ReadWriteExTests
{
    private readonly record struct Completion(uint Error, uint Bytes, nint Overlapped, int ManagedThreadId);

    /// <summary>A completion routine that records its calls.</summary>
    private sealed class Recorder
    {
        private readonly List<Completion> _calls = [];

        public OverlappedCompletionRoutine Routine => (error, bytes, overlapped) =>
        {
            lock (_calls) _calls.Add(new Completion(error, bytes, (nint)overlapped, Environment.CurrentManagedThreadId));
        };

        public Completion[] Calls
        {
            get
            {
                lock (_calls) return [.. _calls];
            }
        }
    }

    [Fact]
    public void WriteFileEx_and_ReadFileEx_call_the_routine_once_on_this_thread_in_an_alertable_wait()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(6);
        var thread = Environment.CurrentManagedThreadId;
        var idle = AsyncTest.NewEvent();
        try
        {
            AsyncTest.DrainApcs();
            var writes = new Recorder();
            "kernel"u8.CopyTo(buffer.Span);
            Assert.True(Kernel32.WriteFileEx(file, buffer.Pointer, 6, ov.Pointer, writes.Routine), $"WriteFileEx: {Kernel32.GetLastError()}");
            // Completed already, but the routine waits for an alertable wait.
            Assert.Empty(writes.Calls);
            Assert.Equal(0u, Kernel32.SleepEx(0, false));
            Assert.Equal(W.WAIT_TIMEOUT, Kernel32.WaitForSingleObjectEx(idle, 0, false));
            Assert.Empty(writes.Calls);
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            Assert.Equal([new Completion(W.ERROR_SUCCESS, 6, (nint)ov.Pointer, thread)], writes.Calls);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Single(writes.Calls);

            var reads = new Recorder();
            buffer.Span.Clear();
            Assert.True(Kernel32.ReadFileEx(file, buffer.Pointer, 6, ov.Pointer, reads.Routine), $"ReadFileEx: {Kernel32.GetLastError()}");
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(1_000, true));
            Assert.Equal([new Completion(W.ERROR_SUCCESS, 6, (nint)ov.Pointer, thread)], reads.Calls);
            Assert.Equal("kernel", buffer.Text);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(idle);
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_cancelled_ReadFileEx_calls_the_routine_with_ERROR_OPERATION_ABORTED()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(4);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, 0, 4, PendMode.Park));
            var reads = new Recorder();
            Assert.True(Kernel32.ReadFileEx(file, buffer.Pointer, 4, ov.Pointer, reads.Routine), $"ReadFileEx: {Kernel32.GetLastError()}");
            AsyncTest.WaitParked(tag, 1);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Empty(reads.Calls);

            Assert.True(Kernel32.CancelIo(file));
            Assert.Equal(W.STATUS_CANCELLED, (uint)ov.Value.Internal);
            Assert.Empty(reads.Calls);
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(0, true));
            var call = Assert.Single(reads.Calls);
            Assert.Equal(W.ERROR_OPERATION_ABORTED, call.Error);
            Assert.Equal(0u, call.Bytes);
            Assert.Equal(1, KbTest.Counters(tag).Cancels);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_ReadFileEx_that_pends_and_ends_at_end_of_file_calls_the_routine_with_ERROR_HANDLE_EOF()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(4);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, W.STATUS_END_OF_FILE, 0, PendMode.CompleteLater, delayMs: 50));
            var reads = new Recorder();
            Assert.True(Kernel32.ReadFileEx(file, buffer.Pointer, 4, ov.Pointer, reads.Routine), $"ReadFileEx: {Kernel32.GetLastError()}");
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(10_000, true));
            var call = Assert.Single(reads.Calls);
            Assert.Equal(W.ERROR_HANDLE_EOF, call.Error);
            Assert.Equal(0u, call.Bytes);
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_pended_ReadFileEx_reports_the_bytes_the_driver_completed_with()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(8);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, 0, 5, PendMode.CompleteLater, delayMs: 50, fillLength: 5));
            var reads = new Recorder();
            Assert.True(Kernel32.ReadFileEx(file, buffer.Pointer, 8, ov.Pointer, reads.Routine));
            Assert.Equal(W.WAIT_IO_COMPLETION, Kernel32.SleepEx(10_000, true));
            var call = Assert.Single(reads.Calls);
            Assert.Equal(W.ERROR_SUCCESS, call.Error);
            Assert.Equal(5u, call.Bytes);
            Assert.Equal("ggggg", buffer.Text[..5]);
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_synchronous_failure_is_FALSE_with_the_mapped_error_and_never_calls_the_routine()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(4);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_END_OF_FILE, W.STATUS_END_OF_FILE, 0));
            var reads = new Recorder();
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.ReadFileEx(file, buffer.Pointer, 4, ov.Pointer, reads.Routine));
            Assert.Equal(W.ERROR_HANDLE_EOF, Kernel32.GetLastError());
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Empty(reads.Calls);

            var writes = new Recorder();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_NOT_IMPLEMENTED, W.STATUS_NOT_IMPLEMENTED, 0));
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.WriteFileEx(file, buffer.Pointer, 4, ov.Pointer, writes.Routine));
            Assert.Equal(W.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Empty(writes.Calls);
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void ReadFileEx_without_an_OVERLAPPED_is_ERROR_INVALID_PARAMETER()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var buffer = new NativeBytes(4);
        try
        {
            var reads = new Recorder();
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.ReadFileEx(file, buffer.Pointer, 4, null, reads.Routine));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
            Assert.Equal(0, KbTest.Counters(tag).Reads);
        }
        finally
        {
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void ReadFileEx_on_a_handle_associated_with_a_port_is_ERROR_INVALID_PARAMETER_and_calls_nothing()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(4);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.Associate(file, port);
            var reads = new Recorder();
            Kernel32.SetLastError(AsyncTest.SentinelLastError);
            Assert.False(Kernel32.ReadFileEx(file, buffer.Pointer, 4, ov.Pointer, reads.Routine));
            Assert.Equal(W.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
            Assert.Equal(0, KbTest.Counters(tag).Reads);
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            Assert.Empty(reads.Calls);
            Assert.Equal(W.STATUS_TIMEOUT, AsyncTest.Remove(port, 0).Status);
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
    }

    [Fact]
    public void The_routine_runs_on_the_issuing_thread_even_when_another_thread_completes_the_request()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        using var ov = new Native<OVERLAPPED>();
        using var buffer = new NativeBytes(4);
        try
        {
            AsyncTest.DrainApcs();
            AsyncTest.SetReadWrite(tag, AsyncTest.Request(W.STATUS_PENDING, 0, 0, PendMode.Park));
            var reads = new Recorder();
            var pointer = ov.Pointer;
            var bufferPointer = buffer.Pointer;
            var issued = new ManualResetEventSlim();
            var issuer = AsyncTest.OnNewThread(() =>
            {
                var ok = Kernel32.ReadFileEx(file, bufferPointer, 4, pointer, reads.Routine);
                issued.Set();
                var sleep = Kernel32.SleepEx(10_000, true);
                return (ok, sleep, Environment.CurrentManagedThreadId);
            }, "issuer");
            Assert.True(issued.Wait(AsyncTest.Timeout));
            AsyncTest.WaitParked(tag, 1);

            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 3));
            // Not this thread's APC.
            Assert.Equal(0u, Kernel32.SleepEx(0, true));
            var (ok, sleep, issuerThread) = AsyncTest.Await(issuer);
            Assert.True(ok);
            Assert.Equal(W.WAIT_IO_COMPLETION, sleep);
            Assert.Equal([new Completion(W.ERROR_SUCCESS, 3, (nint)ov.Pointer, issuerThread)], reads.Calls);
        }
        finally
        {
            AsyncTest.ReleaseQuietly(tag);
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
    }
}
