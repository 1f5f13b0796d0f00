using System.Diagnostics;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// What a synchronous NtDeviceIoControlFile / DeviceIoControl gives back, after Wine's
/// test_return_status (dlls/ntoskrnl.exe/tests/ntoskrnl.c, run on Windows): the driver writes 6
/// bytes, sets Information = 3 and the IOSB status S, optionally marks the IRP pending, completes
/// it inline and returns R. With E = (R == STATUS_PENDING) ? S : R:
/// NtDeviceIoControlFile returns E; the IOSB is {S, 3} unless NT_ERROR(S), when it is untouched;
/// METHOD_BUFFERED copies exactly Information bytes back unless NT_ERROR(S); direct and neither
/// show the driver's writes whatever the status. DeviceIoControl returns NT_SUCCESS(E), leaves the
/// last error alone on success, sets RtlNtStatusToDosError(E) otherwise, and writes
/// *lpBytesReturned = Information unless NT_ERROR(E). Facts: issue2-facts section 2, issue3-facts 1a.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class IoctlCopyBackTests
{
    private static readonly string[] MatrixStatuses =
        ["STATUS_SUCCESS", "STATUS_TIMEOUT", "0x4EADBEEF", "STATUS_BUFFER_OVERFLOW", "0x8EADBEEF", "STATUS_NOT_IMPLEMENTED", "0xCEADBEEF"];

    private static readonly TransferMethod[] Methods =
        [TransferMethod.METHOD_BUFFERED, TransferMethod.METHOD_IN_DIRECT, TransferMethod.METHOD_OUT_DIRECT, TransferMethod.METHOD_NEITHER];

    /// <summary>Every method × pend mode × (dispatch return, IOSB status); dispatch STATUS_PENDING only when the IRP is marked pending (Wine skips the illegal rest).</summary>
    public static TheoryData<TransferMethod, PendMode, string, string> Matrix()
    {
        var data = new TheoryData<TransferMethod, PendMode, string, string>();
        foreach (var method in Methods)
        foreach (var pend in new[] { PendMode.None, PendMode.MarkPendingCompleteInline })
        {
            foreach (var dispatch in MatrixStatuses)
            foreach (var iosb in MatrixStatuses)
                data.Add(method, pend, dispatch, iosb);
            if (pend == PendMode.MarkPendingCompleteInline)
                foreach (var iosb in MatrixStatuses)
                    data.Add(method, pend, "STATUS_PENDING", iosb);
        }
        return data;
    }

    private static byte[] ExpectedOutput(TransferMethod method, uint iosbStatus, byte[] original) =>
        method == TransferMethod.METHOD_BUFFERED
            ? Win.NT_ERROR(iosbStatus) ? original : Filled(original, 3)
            : Filled(original, 6);

    [Theory]
    [MemberData(nameof(Matrix))]
    public void NtDeviceIoControlFile_returns_the_final_status_writes_the_iosb_unless_error_and_copies_back_by_method(
        TransferMethod method, PendMode pend, string dispatchName, string iosbName)
    {
        var dispatch = Win.Status(dispatchName);
        var iosbStatus = Win.Status(iosbName);
        var expected = dispatch == Win.STATUS_PENDING ? iosbStatus : dispatch;
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        var status = NtIoctl(handle, ReturnCode(method).Value, KbTest.Bytes(Request(dispatch, iosbStatus, pend: pend)), output, ref iosb);

        Assert.Equal(Hex(expected), Hex(status));
        if (Win.NT_ERROR(iosbStatus)) AssertIosbUntouched(iosb, "when the IRP completed with an error");
        else AssertIosb(iosb, iosbStatus, 3);
        AssertBytes(ExpectedOutput(method, iosbStatus, original), output);
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void DeviceIoControl_is_true_iff_nt_success_keeps_last_error_on_success_and_sets_bytes_returned_unless_error(
        TransferMethod method, PendMode pend, string dispatchName, string iosbName)
    {
        var dispatch = Win.Status(dispatchName);
        var iosbStatus = Win.Status(iosbName);
        var expected = dispatch == Win.STATUS_PENDING ? iosbStatus : dispatch;
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var returned = SentinelBytes;

        var ok = Win32Ioctl(handle, ReturnCode(method).Value, KbTest.Bytes(Request(dispatch, iosbStatus, pend: pend)), output, ref returned);
        var lastError = Kernel32.GetLastError();

        Assert.Equal(Win.NT_SUCCESS(expected), ok);
        Assert.Equal(Hex(Win.NT_SUCCESS(expected) ? SentinelLastError : Win.DosError(expected)), Hex(lastError));
        if (Win.NT_ERROR(expected)) Assert.Equal(Hex(SentinelBytes), Hex(returned));
        else if (!Win.NT_ERROR(iosbStatus)) Assert.Equal(3u, returned);
        // !NT_ERROR(E) with NT_ERROR(S): Windows reports whatever its unwritten local IOSB held; nothing to assert.
        AssertBytes(ExpectedOutput(method, iosbStatus, original), output);
    }

    [Theory]
    [InlineData(TransferMethod.METHOD_BUFFERED)]
    [InlineData(TransferMethod.METHOD_OUT_DIRECT)]
    [InlineData(TransferMethod.METHOD_NEITHER)]
    public void Unsuccessful_error_status_is_returned_with_the_iosb_untouched_and_mapped_to_ERROR_GEN_FAILURE(TransferMethod method)
    {
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();
        var request = KbTest.Bytes(Request(Win.STATUS_UNSUCCESSFUL, Win.STATUS_UNSUCCESSFUL));

        Assert.Equal(Hex(Win.STATUS_UNSUCCESSFUL), Hex(NtIoctl(handle, ReturnCode(method).Value, request, output, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(ExpectedOutput(method, Win.STATUS_UNSUCCESSFUL, original), output);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(handle, ReturnCode(method).Value, request, output, ref returned));
        Assert.Equal(Win.ERROR_GEN_FAILURE, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
    }

    [Theory]
    [MemberData(nameof(MethodCases))]
    public void Buffered_copy_back_is_skipped_for_STATUS_VERIFY_REQUIRED_although_the_iosb_is_written(TransferMethod method)
    {
        // WRK IopCompleteRequest copies the system buffer back only if
        // "irp->IoStatus.Status != STATUS_VERIFY_REQUIRED && !NT_ERROR(irp->IoStatus.Status)";
        // ReactOS's kmtest IoReadWrite checks the same on Windows for a buffered read.
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();
        var input = KbTest.Bytes(Request(Win.STATUS_VERIFY_REQUIRED, Win.STATUS_VERIFY_REQUIRED));

        Assert.Equal(Hex(Win.STATUS_VERIFY_REQUIRED), Hex(NtIoctl(handle, ReturnCode(method).Value, input, output, ref iosb)));

        AssertIosb(iosb, Win.STATUS_VERIFY_REQUIRED, 3, "(a warning: the IOSB is written)");
        AssertBytes(method == TransferMethod.METHOD_BUFFERED ? original : Filled(original, 6), output);

        output = (byte[])original.Clone();
        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(handle, ReturnCode(method).Value, input, output, ref returned));
        Assert.Equal(3u, returned);
        AssertBytes(method == TransferMethod.METHOD_BUFFERED ? original : Filled(original, 6), output);
    }

    public static TheoryData<TransferMethod> MethodCases() => new(Methods);

    [Fact]
    public void Buffered_copy_back_takes_Information_bytes_of_the_system_buffer_which_still_holds_the_input()
    {
        // One system buffer of max(in, out) serves both directions: bytes the driver did not
        // overwrite still hold the input, and Information of them go back (WRK IopCompleteRequest).
        using var handle = Open(KbTest.NewTag());
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS, information: 6, fillLength: 2));
        var original = Pattern(8);
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, output, ref iosb)));

        AssertIosb(iosb, Win.STATUS_SUCCESS, 6);
        var expected = (byte[])original.Clone();
        expected[0] = expected[1] = Fill;
        input.AsSpan(2, 4).CopyTo(expected.AsSpan(2));
        AssertBytes(expected, output);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(4096)]
    public void Buffered_Information_beyond_the_output_length_copies_only_what_fits_and_reports_the_drivers_Information(long information)
    {
        // Windows copies Information bytes whatever the length (a driver bug that overruns the
        // caller); KernelBridge copies OutputBufferLength bytes and leaves the rest of the caller's memory alone.
        using var handle = Open(KbTest.NewTag());
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS, information, fillLength: 64));
        var original = Pattern(16);
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        var status = NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, output, 4, ref iosb);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status));
        AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)information);
        AssertBytes(Filled(original, 4), output, "(4 bytes passed, 16 behind them)");

        output = (byte[])original.Clone();
        var returned = SentinelBytes;
        Assert.True(Win32Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, output, 4, ref returned));
        Assert.Equal((uint)information, returned);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());
        AssertBytes(Filled(original, 4), output);
    }

    public static TheoryData<TransferMethod, string> PendedCases() => new()
    {
        { TransferMethod.METHOD_BUFFERED, "STATUS_SUCCESS" },
        { TransferMethod.METHOD_BUFFERED, "STATUS_TIMEOUT" },
        { TransferMethod.METHOD_BUFFERED, "STATUS_BUFFER_OVERFLOW" },
        { TransferMethod.METHOD_BUFFERED, "STATUS_NOT_IMPLEMENTED" },
        { TransferMethod.METHOD_IN_DIRECT, "STATUS_SUCCESS" },
        { TransferMethod.METHOD_OUT_DIRECT, "STATUS_BUFFER_OVERFLOW" },
        { TransferMethod.METHOD_OUT_DIRECT, "STATUS_UNSUCCESSFUL" },
        { TransferMethod.METHOD_NEITHER, "STATUS_SUCCESS" },
        { TransferMethod.METHOD_NEITHER, "STATUS_NOT_IMPLEMENTED" },
    };

    [Theory]
    [MemberData(nameof(PendedCases))]
    public async Task Pended_ioctl_on_a_synchronous_handle_blocks_until_completion_and_returns_the_iosb_status(TransferMethod method, string statusName)
    {
        // The dispatch routine returns STATUS_PENDING; a timer completes the IRP 100 ms later.
        // The I/O manager waits on the file object and returns FileObject->FinalStatus (= the IOSB
        // status); the IOSB is written unless that is an error (synchronous file: WRK IopCompleteRequest).
        var status = Win.Status(statusName);
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var input = KbTest.Bytes(Request(Win.STATUS_PENDING, status, pend: PendMode.CompleteLater, delayMs: 100));
        var watch = Stopwatch.StartNew();

        var call = Task.Run(() =>
        {
            var local = SentinelIosb();
            var result = NtIoctl(handle, ReturnCode(method).Value, input, output, ref local);
            return (result, local);
        });
        var (returned, iosb) = await call.WaitAsync(TimeSpan.FromSeconds(10)); // TimeoutException: the pended ioctl never completed
        var elapsed = watch.ElapsedMilliseconds;

        Assert.True(elapsed >= 80, $"the call returned after {elapsed} ms: it did not wait for the completion");
        Assert.Equal(Hex(status), Hex(returned));
        if (Win.NT_ERROR(status)) AssertIosbUntouched(iosb, "(pended error on a synchronous file)");
        else AssertIosb(iosb, status, 3);
        AssertBytes(ExpectedOutput(method, status, original), output);
    }

    [Fact]
    public async Task Pended_DeviceIoControl_on_a_synchronous_handle_returns_after_completion_with_ERROR_MORE_DATA_and_the_bytes()
    {
        using var handle = Open(KbTest.NewTag());
        var original = Pattern();
        var output = (byte[])original.Clone();
        var input = KbTest.Bytes(Request(Win.STATUS_PENDING, Win.STATUS_BUFFER_OVERFLOW, pend: PendMode.CompleteLater, delayMs: 100));

        var call = Task.Run(() =>
        {
            var returned = SentinelBytes;
            var ok = Win32Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, output, ref returned);
            return (ok, returned, error: Kernel32.GetLastError());
        });
        var (ok, bytes, error) = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(ok);
        Assert.Equal(Win.ERROR_MORE_DATA, error);
        Assert.Equal(3u, bytes);
        AssertBytes(Filled(original, 3), output);
    }

    [Fact]
    public void Buffered_ioctl_with_no_output_buffer_copies_nothing_back_and_still_writes_the_iosb()
    {
        using var handle = Open(KbTest.NewTag());
        var iosb = SentinelIosb();
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS, information: 0));

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, input, null, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
    }

    [Fact]
    public void Unknown_control_code_fails_with_STATUS_INVALID_DEVICE_REQUEST_and_ERROR_INVALID_FUNCTION()
    {
        using var handle = Open(KbTest.NewTag());
        var code = CtlCode.Make(0x22, 0x9FF, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS).Value;
        var iosb = SentinelIosb();
        var output = Pattern();

        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(NtIoctl(handle, code, null, output, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(Pattern(), output);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(handle, code, null, output, ref returned));
        Assert.Equal(Win.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
    }
}
