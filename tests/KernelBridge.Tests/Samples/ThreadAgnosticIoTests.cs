using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Samples;

/// <summary>
/// A thread's exit cancels the I/O it issued (IoCancelThreadIo), except on files bound to a
/// completion port. DeviceFile.OpenOverlapped binds its file to the connection's port, as .NET
/// binds handles to its thread pool on Windows: async requests outlive the thread that made them.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class ThreadAgnosticIoTests
{
    [Fact]
    public async Task An_awaited_request_outlives_the_thread_that_issued_it()
    {
        var tag = KbTest.NewTag();
        using var file = DeviceFile.OpenOverlapped(KbTest.Path(tag));
        var output = new byte[8];
        ValueTask<IoResult> pending = default;
        var issuer = new Thread(() => pending = file.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
            KbTest.Bytes(new ReturnRequest(0, 0, 4, PendMode.Park, 0, 0x42, 4)), output));
        issuer.Start();
        Assert.True(issuer.Join(TimeSpan.FromSeconds(10)));
        var task = pending.AsTask();
        try
        {
            Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Parked == 1), "the request was not parked");
            // The kernel notices exited threads every two seconds; give it time to (wrongly) cancel.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(task.IsCompleted, $"the request ended with the thread: {task.Exception?.InnerException?.Message}");
            Assert.Equal(0, KbTest.Counters(tag).Cancels);
            Assert.Equal(1, KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 4));
            var result = await task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(4, result.Information);
            Assert.Equal([0x42, 0x42, 0x42, 0x42], output[..4]);
        }
        finally
        {
            KbTest.Release(tag, NtStatus.STATUS_CANCELLED);
            await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public void A_file_bound_for_awaited_IO_refuses_another_completion_port()
    {
        using var file = DeviceFile.OpenOverlapped(KbTest.Path(KbTest.NewTag()));
        var port = KernelBridge.Client.Win32.Kernel32.CreateIoCompletionPort(file.Handle.Value, 0, 1, 0);
        Assert.Equal(0, port);
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, KernelBridge.Client.Win32.Kernel32.GetLastError());
    }
}
