using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// A synchronous handle blocks on an IRP the driver pended (the I/O manager waits on the file
/// object, WRK IopSynchronousServiceTail) and returns the IRP's final status and IOSB once it
/// completes; the kernel parks the call rather than holding a thread for it (DESIGN.md).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class PendingIrpTests
{
    private sealed record IoctlOutcome(NtStatus Status, IO_STATUS_BLOCK Iosb, byte[] Output);

    /// <summary>A RETURN_BUFFERED IOCTL with <paramref name="request"/>, from a dedicated thread on the default connection.</summary>
    private static Task<IoctlOutcome> StartReturnIoctl(nint handle, ReturnRequest request, int outputLength = 16) => ObTest.RunBlocking(() =>
    {
        var output = new byte[outputLength];
        Array.Fill(output, (byte)0xCC);
        var iosb = new IO_STATUS_BLOCK { Status = 0x1234, Information = 0x5678 };
        var status = KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, ObTest.ReturnInput(request), output, ref iosb);
        return new IoctlOutcome(status, iosb, output);
    });

    [Fact]
    public async Task A_synchronous_IOCTL_waits_for_a_parked_IRP_and_returns_its_final_status_and_IOSB()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var call = StartReturnIoctl(handle, new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0x5A, 16));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
            await Task.Delay(200);
            Assert.False(call.IsCompleted, "the synchronous call returned while its IRP was still pending");

            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 6)));
            var outcome = await call.WaitAsync(ObTest.Timeout);
            Assert.Equal(NtStatus.STATUS_SUCCESS, outcome.Status);
            Assert.Equal(0, outcome.Iosb.Status);
            Assert.Equal((nuint)6, outcome.Iosb.Information);
            // METHOD_BUFFERED copies back Information bytes of what the driver wrote.
            Assert.Equal(Enumerable.Repeat((byte)0x5A, 6), outcome.Output[..6]);
            Assert.Equal(Enumerable.Repeat((byte)0xCC, 10), outcome.Output[6..]);
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public async Task A_parked_IRP_does_not_hold_a_kernel_thread_other_calls_on_the_same_connection_go_through()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        var otherTag = KbTest.NewTag();
        var other = KbTest.Open(otherTag);
        try
        {
            var call = StartReturnIoctl(handle, new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");

            // Another handle, another file: its requests are answered while the first waits.
            var id = await ObTest.Bounded(() => ObTest.FsContext(other));
            Assert.NotEqual(0, id);
            var quick = await StartReturnIoctl(other, new ReturnRequest(0, 0, 4, PendMode.None, 0, 0x11, 4)).WaitAsync(ObTest.Timeout);
            Assert.Equal(NtStatus.STATUS_SUCCESS, quick.Status);
            Assert.Equal((nuint)4, quick.Iosb.Information);
            Assert.False(call.IsCompleted);

            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 0)));
            Assert.Equal(NtStatus.STATUS_SUCCESS, (await call.WaitAsync(ObTest.Timeout)).Status);
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            Kernel32.CloseHandle(handle);
            Kernel32.CloseHandle(other);
        }
    }

    [Fact]
    public async Task Many_parked_IRPs_at_once_still_leave_the_kernel_answering()
    {
        const int count = 24;
        var tag = KbTest.NewTag();
        var handles = Enumerable.Range(0, count).Select(_ => KbTest.Open(tag)).ToList();
        try
        {
            var calls = handles.Select(h => StartReturnIoctl(h, new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0))).ToList();
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == count), $"counters: {KbTest.Counters(tag)}");
            Assert.All(calls, c => Assert.False(c.IsCompleted));

            var counters = await ObTest.Bounded(() => KbTest.Counters(tag));
            Assert.Equal(count, counters.Creates);

            Assert.Equal(count, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 2)));
            var outcomes = await Task.WhenAll(calls).WaitAsync(ObTest.Timeout);
            Assert.All(outcomes, o =>
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, o.Status);
                Assert.Equal((nuint)2, o.Iosb.Information);
            });
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            foreach (var handle in handles) Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public async Task A_synchronous_IOCTL_returns_when_the_driver_completes_the_IRP_later()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var watch = Stopwatch.StartNew();
            var call = StartReturnIoctl(handle, new ReturnRequest(0, 0, 5, PendMode.CompleteLater, 400, 0x42, 8));
            var outcome = await call.WaitAsync(ObTest.Timeout);
            watch.Stop();
            Assert.True(watch.ElapsedMilliseconds >= 300, $"the call returned after {watch.ElapsedMilliseconds} ms, before the driver completed the IRP");
            Assert.Equal(NtStatus.STATUS_SUCCESS, outcome.Status);
            Assert.Equal(0, outcome.Iosb.Status);
            Assert.Equal((nuint)5, outcome.Iosb.Information);
            Assert.Equal(Enumerable.Repeat((byte)0x42, 5), outcome.Output[..5]);
            Assert.Equal(Enumerable.Repeat((byte)0xCC, 11), outcome.Output[5..]);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public async Task A_pended_IRP_completed_later_with_a_warning_returns_the_warning_and_its_data()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var overflow = NtStatus.STATUS_BUFFER_OVERFLOW.Value;
            var outcome = await StartReturnIoctl(handle, new ReturnRequest(0, overflow, 3, PendMode.CompleteLater, 100, 0x77, 8))
                .WaitAsync(ObTest.Timeout);
            Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, outcome.Status);
            Assert.Equal(overflow, outcome.Iosb.Status);
            Assert.Equal((nuint)3, outcome.Iosb.Information);
            Assert.Equal(Enumerable.Repeat((byte)0x77, 3), outcome.Output[..3]);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    /// <summary>
    /// "All I/O on a synchronous file handle is serialized" (The Old New Thing, 2013-08-22): the
    /// I/O manager takes the file object's lock before it builds the IRP and keeps it while it
    /// waits (WRK IopXxxControlFile / IopSynchronousServiceTail), so a second request on the same
    /// file object, even through a duplicate handle, reaches the driver only after the first completed.
    /// </summary>
    [Fact]
    public async Task All_IO_on_a_synchronous_file_object_is_serialized_a_second_request_waits_for_the_first()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(handle, out var duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
        try
        {
            var first = StartReturnIoctl(handle, new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
            var second = StartReturnIoctl(duplicate, new ReturnRequest(0, 0, 1, PendMode.None, 0, 0x33, 1));
            await Task.Delay(300);
            var counters = await ObTest.Bounded(() => KbTest.Counters(tag));
            Assert.False(second.IsCompleted, "a second synchronous request on the file object completed while the first was pending");
            Assert.Equal(1, counters.DeviceControls);

            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 0)));
            Assert.Equal(NtStatus.STATUS_SUCCESS, (await first.WaitAsync(ObTest.Timeout)).Status);
            var outcome = await second.WaitAsync(ObTest.Timeout);
            Assert.Equal(NtStatus.STATUS_SUCCESS, outcome.Status);
            Assert.Equal((nuint)1, outcome.Iosb.Information);
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            Kernel32.CloseHandle(handle);
            ObTest.Close(duplicate);
        }
    }
}
