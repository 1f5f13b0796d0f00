using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// Handles and file objects: IRP_MJ_CREATE once per open and never per duplicate, one FsContext per
/// file object, IRP_MJ_CLEANUP when the last handle goes and IRP_MJ_CLOSE when the last reference
/// goes (WRK iomgr/objsup.c IopCloseFile / IopDeleteFile; Wine ntoskrnl test_file_handles).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class FileObjectLifetimeTests(KernelFixture fixture)
{
    [Fact]
    public void Each_CreateFile_sends_one_IRP_MJ_CREATE_and_makes_its_own_file_object()
    {
        var tag = KbTest.NewTag();
        var first = KbTest.Open(tag);
        var second = KbTest.Open(tag);
        try
        {
            Assert.Equal(2, KbTest.Counters(tag).Creates);
            Assert.NotEqual(first, second);
            Assert.NotEqual(ObTest.FsContext(first), ObTest.FsContext(second));
        }
        finally
        {
            Kernel32.CloseHandle(first);
            Kernel32.CloseHandle(second);
        }
        var counters = KbTest.Counters(tag);
        Assert.Equal(2, counters.Cleanups);
        Assert.Equal(2, counters.Closes);
    }

    [Fact]
    public void DuplicateHandle_sends_no_IRP_MJ_CREATE_and_shares_the_file_object()
    {
        var tag = KbTest.NewTag();
        var original = KbTest.Open(tag);
        nint duplicate = 0;
        try
        {
            Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), original, Kernel32.GetCurrentProcess(), out duplicate, 0, false,
                DuplicateOptions.DUPLICATE_SAME_ACCESS), $"DuplicateHandle failed: {Kernel32.GetLastError()}");
            Assert.NotEqual(0, duplicate);
            Assert.NotEqual(original, duplicate);
            Assert.Equal(1, KbTest.Counters(tag).Creates);
            Assert.Equal(ObTest.FsContext(original), ObTest.FsContext(duplicate));
        }
        finally
        {
            Kernel32.CloseHandle(original);
            ObTest.Close(duplicate);
        }
    }

    [Fact]
    public void NtDuplicateObject_sends_no_IRP_MJ_CREATE_and_shares_the_file_object()
    {
        var tag = KbTest.NewTag();
        var original = KbTest.Open(tag);
        nint duplicate = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(original, out duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(duplicate, out var third, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            var id = ObTest.FsContext(original);
            Assert.Equal(id, ObTest.FsContext(duplicate));
            Assert.Equal(id, ObTest.FsContext(third));
            ObTest.Close(third);
            var counters = KbTest.Counters(tag);
            Assert.Equal(1, counters.Creates);
            Assert.Equal(0, counters.Cleanups);
            Assert.Equal(0, counters.Closes);
        }
        finally
        {
            Kernel32.CloseHandle(original);
            ObTest.Close(duplicate);
        }
    }

    [Fact]
    public void IRP_MJ_CLEANUP_and_IRP_MJ_CLOSE_come_when_the_last_handle_closes_not_when_a_duplicate_closes()
    {
        var tag = KbTest.NewTag();
        var original = KbTest.Open(tag);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(original, out var duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));

        Assert.True(Kernel32.CloseHandle(original));
        var afterFirst = KbTest.Counters(tag);
        Assert.Equal(0, afterFirst.Cleanups);
        Assert.Equal(0, afterFirst.Closes);
        Assert.Equal(1, afterFirst.OpenFiles);

        // The duplicate still works: the file object is alive.
        ObTest.FsContext(duplicate);

        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(duplicate));
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Cleanups: 1, Closes: 1 }), $"counters: {KbTest.Counters(tag)}");
        var final = KbTest.Counters(tag);
        Assert.Equal(1, final.Creates);
        Assert.Equal(0, final.OpenFiles);
    }

    [Fact]
    public void DUPLICATE_CLOSE_SOURCE_closes_the_source_handle_but_not_the_file()
    {
        var tag = KbTest.NewTag();
        var source = KbTest.Open(tag);
        nint target = 0;
        try
        {
            Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), source, Kernel32.GetCurrentProcess(), out target, 0, false,
                DuplicateOptions.DUPLICATE_SAME_ACCESS | DuplicateOptions.DUPLICATE_CLOSE_SOURCE), $"DuplicateHandle failed: {Kernel32.GetLastError()}");
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(source));
            Assert.Equal(0, KbTest.Counters(tag).Cleanups);
            ObTest.FsContext(target);
        }
        finally
        {
            ObTest.Close(target);
        }
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Creates: 1, Cleanups: 1, Closes: 1 }), $"counters: {KbTest.Counters(tag)}");
    }

    [Fact]
    public void DUPLICATE_CLOSE_SOURCE_without_a_target_process_just_closes_the_source()
    {
        var tag = KbTest.NewTag();
        var source = KbTest.Open(tag);
        var status = ObTest.Duplicate(PseudoHandles.CurrentProcess, source, 0, out _, 0, DuplicateOptions.DUPLICATE_CLOSE_SOURCE);
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(source));
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Cleanups: 1, Closes: 1 }), $"counters: {KbTest.Counters(tag)}");
    }

    [Fact]
    public void Duplicating_an_invalid_handle_fails_with_STATUS_INVALID_HANDLE_and_a_zero_target()
    {
        var status = ObTest.Duplicate(0x7FFC, out var target, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS);
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, status);
        Assert.Equal(0, target);

        Kernel32.SetLastError(0u);
        Assert.False(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), 0x7FFC, Kernel32.GetCurrentProcess(), out var win32Target, 0, false,
            DuplicateOptions.DUPLICATE_SAME_ACCESS));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        Assert.Equal(0, win32Target);
    }

    [Fact]
    public void DUPLICATE_SAME_ACCESS_keeps_a_read_only_handle_read_only()
    {
        var tag = KbTest.NewTag();
        var readOnly = KbTest.Open(tag, access: AccessMask.GENERIC_READ);
        nint duplicate = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(readOnly, out duplicate, AccessMask.GENERIC_WRITE, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            Assert.Equal(ObTest.Basic(readOnly).GrantedAccess, ObTest.Basic(duplicate).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(duplicate, KbTestInterface.IOCTL_KBTEST_NEEDS_READ));
            var before = KbTest.Counters(tag).DeviceControls;
            // The access check happens before any IRP is built: the driver never sees the request.
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.Ioctl(duplicate, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.Ioctl(duplicate, KbTestInterface.IOCTL_KBTEST_NEEDS_READ_WRITE));
            Assert.Equal(before, KbTest.Counters(tag).DeviceControls);
        }
        finally
        {
            Kernel32.CloseHandle(readOnly);
            ObTest.Close(duplicate);
        }
    }

    [Fact]
    public void DUPLICATE_SAME_ACCESS_keeps_a_read_write_handle_writable()
    {
        var tag = KbTest.NewTag();
        var readWrite = KbTest.Open(tag);
        nint duplicate = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(readWrite, out duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            Assert.Equal(ObTest.Basic(readWrite).GrantedAccess, ObTest.Basic(duplicate).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(duplicate, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE));
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(duplicate, KbTestInterface.IOCTL_KBTEST_NEEDS_READ_WRITE));
        }
        finally
        {
            Kernel32.CloseHandle(readWrite);
            ObTest.Close(duplicate);
        }
    }

    [Fact]
    public void Duplicating_with_a_desired_access_grants_that_access_mapped_through_the_File_type()
    {
        var tag = KbTest.NewTag();
        var readWrite = KbTest.Open(tag);
        nint readOnly = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(readWrite, out readOnly, AccessMask.GENERIC_READ, DuplicateOptions.None));
            // GENERIC_READ on a file is FILE_GENERIC_READ = 0x120089.
            Assert.Equal(AccessMask.FILE_GENERIC_READ, ObTest.Basic(readOnly).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(readOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_READ));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.Ioctl(readOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE));
            // The original keeps its own access.
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(readWrite, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE));
            Assert.Equal(1, KbTest.Counters(tag).Creates);
        }
        finally
        {
            Kernel32.CloseHandle(readWrite);
            ObTest.Close(readOnly);
        }
    }

    [Fact]
    public void Duplicating_with_a_specific_write_right_gives_exactly_that_right()
    {
        var tag = KbTest.NewTag();
        var readWrite = KbTest.Open(tag);
        nint writeOnly = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS,
                ObTest.Duplicate(readWrite, out writeOnly, AccessMask.FILE_WRITE_DATA | AccessMask.SYNCHRONIZE, DuplicateOptions.None));
            Assert.Equal(AccessMask.FILE_WRITE_DATA | AccessMask.SYNCHRONIZE, ObTest.Basic(writeOnly).GrantedAccess);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Ioctl(writeOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.Ioctl(writeOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_READ));
        }
        finally
        {
            Kernel32.CloseHandle(readWrite);
            ObTest.Close(writeOnly);
        }
    }

    /// <summary>
    /// An IRP holds a reference on its file object, so IRP_MJ_CLOSE waits for it, while
    /// IRP_MJ_CLEANUP comes as soon as the last handle closes; the I/O manager itself does not
    /// cancel the IRP (the driver would, in its cleanup; the test driver does not). An overlapped
    /// handle, so the close does not wait on the file object lock (see the synchronous case below).
    /// </summary>
    [Fact]
    public async Task IRP_MJ_CLOSE_waits_until_the_outstanding_IRPs_of_the_file_have_completed()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag, flags: (uint)FileFlags.FILE_FLAG_OVERLAPPED);
        var iosb = new NativeBuffer(16);
        var output = new NativeBuffer(16);
        var input = ObTest.ReturnInput(new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0x5A, 4));
        Task<NtStatus>? call = null;
        // Issued from a thread that lives until the test ends: a thread that exits takes its IRPs with it
        // (IoCancelThreadIo), and a pool thread may be retired while the test awaits.
        using var keepAlive = new ManualResetEventSlim();
        var issued = new TaskCompletionSource<NtStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var issuer = new Thread(() =>
        {
            issued.SetResult(ObTest.IoctlNative(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input, output, iosb));
            keepAlive.Wait(TimeSpan.FromMinutes(2));
        }) { IsBackground = true, Name = "IRP issuer" };
        try
        {
            issuer.Start();
            call = issued.Task;
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");

            Assert.True(await ObTest.Bounded(() => Kernel32.CloseHandle(handle)));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Cleanups == 1), $"no IRP_MJ_CLEANUP: {KbTest.Counters(tag)}");
            await Task.Delay(300);
            var parked = await ObTest.Bounded(() => KbTest.Counters(tag));
            Assert.True(parked is { Closes: 0, Parked: 1, Cancels: 0 }, $"IRP_MJ_CLOSE came while an IRP was outstanding, or the IRP left: {parked}");

            // RELEASE opens (and closes) a second file object under the same tag.
            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 3)));
            var status = await call.WaitAsync(ObTest.Timeout);
            Assert.True(status == NtStatus.STATUS_SUCCESS || status == NtStatus.STATUS_PENDING, $"the IOCTL returned {status}");
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag) is { Creates: 2, Cleanups: 2, Closes: 2, OpenFiles: 0 }),
                $"IRP_MJ_CLOSE did not follow the completion: {KbTest.Counters(tag)}");
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            keepAlive.Set();
            issuer.Join(ObTest.Timeout);
            if (call is not null) await Task.WhenAny(call, Task.Delay(ObTest.Timeout));
            if (call?.IsCompleted == true)
            {
                iosb.Dispose();
                output.Dispose();
            }
        }
    }

    /// <summary>
    /// A synchronous file object has a lock that synchronous I/O holds while it waits; closing its
    /// last handle takes that lock first (WRK iomgr/objsup.c IopCloseFile: "if the file is for
    /// synchronous I/O, acquire the file object lock"), so CloseHandle waits for the parked request
    /// and IRP_MJ_CLEANUP comes only after it completed.
    /// </summary>
    [Fact]
    public async Task Closing_the_last_handle_of_a_synchronous_file_waits_for_the_synchronous_IO_in_progress()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        var input = ObTest.ReturnInput(new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));
        Task<NtStatus>? call = null;
        Task<bool>? close = null;
        try
        {
            call = ObTest.RunBlocking(() =>
            {
                IO_STATUS_BLOCK iosb = default;
                return KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input, new byte[8], ref iosb);
            });
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");

            close = ObTest.RunBlocking(() => Kernel32.CloseHandle(handle));
            await Task.Delay(300);
            var parked = await ObTest.Bounded(() => KbTest.Counters(tag));
            Assert.False(close.IsCompleted, "CloseHandle returned while synchronous I/O on the file was in progress");
            Assert.Equal(0, parked.Cleanups);

            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_SUCCESS, 0)));
            Assert.Equal(NtStatus.STATUS_SUCCESS, await call.WaitAsync(ObTest.Timeout));
            Assert.True(await close.WaitAsync(ObTest.Timeout));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag) is { Cleanups: 2, Closes: 2 }), $"counters: {KbTest.Counters(tag)}");
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
            if (close is null) Kernel32.CloseHandle(handle);
            if (call is not null) await Task.WhenAny(call, Task.Delay(ObTest.Timeout));
        }
    }

    /// <summary>
    /// Process exit cancels the process's IRPs (IoCancelThreadIo from PspExitThread) and closes its
    /// handles: the driver's cancel routine completes the parked IRP, then CLEANUP, then CLOSE.
    /// </summary>
    [Fact]
    public async Task Process_exit_cancels_its_pended_IRPs_and_the_driver_then_sees_CLEANUP_and_CLOSE()
    {
        var tag = KbTest.NewTag();
        var process = ObTest.NewProcess(fixture);
        Task<NtStatus>? call = null;
        try
        {
            var handle = await ObTest.RunBlocking(process, () => KbTest.Open(tag)).WaitAsync(ObTest.Timeout);
            var input = ObTest.ReturnInput(new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));
            call = ObTest.RunBlocking(process, () =>
            {
                IO_STATUS_BLOCK iosb = default;
                return KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input, new byte[8], ref iosb);
            });
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the IRP was not parked");
        }
        finally
        {
            await ObTest.RunBlocking(() =>
            {
                process.Dispose();
                return true;
            }).WaitAsync(ObTest.Timeout);
        }
        try
        {
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag) is { Cancels: 1, Parked: 0, Cleanups: 1, Closes: 1, OpenFiles: 0 }),
                $"counters: {KbTest.Counters(tag)}");
            // The caller's connection is gone: its call ends, whatever it says.
            await call!.WaitAsync(ObTest.Timeout);
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
        }
    }
}
