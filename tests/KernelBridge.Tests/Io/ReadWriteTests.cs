using System.Text;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// NtReadFile / NtWriteFile and ReadFile / WriteFile on a buffered (DO_BUFFERED_IO), a direct
/// (DO_DIRECT_IO) and a neither device, the outcome steered with IOCTL_KBTEST_SET_RW. The same
/// completion rules as for IOCTLs (WRK IopCompleteRequest): a buffered read copies Information
/// bytes back unless NT_ERROR; direct and neither reads land in the caller's pages whatever the
/// status. ReadFile on a synchronous handle at STATUS_END_OF_FILE is TRUE with 0 bytes (MS "Testing
/// for the End of a File"; Wine kernelbase ReadFile). issue2-facts sections 2 and 10.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class ReadWriteTests
{
    private static readonly string[] Devices = ["buffered", "direct", "neither"];

    private static string Variant(string device) => device switch
    {
        "buffered" => "",
        "direct" => "Direct",
        "neither" => "Neither",
        _ => throw new ArgumentOutOfRangeException(nameof(device)),
    };

    public static TheoryData<string, string> ReadCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in Devices)
        foreach (var status in new[] { "STATUS_SUCCESS", "STATUS_TIMEOUT", "STATUS_BUFFER_OVERFLOW", "STATUS_UNSUCCESSFUL", "STATUS_END_OF_FILE" })
            data.Add(device, status);
        return data;
    }

    /// <summary>More statuses for the NT level, after ReactOS's kmtest IoReadWrite (which passes on Windows): informational and warning statuses copy back, STATUS_VERIFY_REQUIRED does not.</summary>
    public static TheoryData<string, string> NtReadCases()
    {
        var data = ReadCases();
        foreach (var device in Devices)
        foreach (var status in new[] { "STATUS_OBJECT_NAME_EXISTS", "STATUS_DEVICE_BUSY", "STATUS_VERIFY_REQUIRED" })
            data.Add(device, status);
        return data;
    }

    /// <summary>A tag whose reads complete with <paramref name="status"/>, Information 3, the driver writing 6 bytes.</summary>
    private static OwnedHandle Steered(string device, uint status, long information = 3)
    {
        var handle = Open(KbTest.NewTag(), Variant(device));
        SetReadWrite(handle, Request(status, status, information));
        return handle;
    }

    /// <summary>WRK IopCompleteRequest: buffered data goes back iff !NT_ERROR and not STATUS_VERIFY_REQUIRED.</summary>
    private static byte[] ExpectedRead(string device, uint status, byte[] original) =>
        device == "buffered"
            ? Win.NT_ERROR(status) || status == Win.STATUS_VERIFY_REQUIRED ? original : Filled(original, 3)
            : Filled(original, 6);

    [Theory]
    [MemberData(nameof(NtReadCases))]
    public void NtReadFile_returns_the_status_and_copies_back_like_an_ioctl_of_the_devices_io_method(string device, string statusName)
    {
        var status = Win.Status(statusName);
        using var handle = Steered(device, status);
        var original = Pattern();
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(status), Hex(NtRead(handle, buffer, buffer.Length, ref iosb)));

        if (Win.NT_ERROR(status)) AssertIosbUntouched(iosb);
        else AssertIosb(iosb, status, 3);
        AssertBytes(ExpectedRead(device, status, original), buffer);
    }

    [Theory]
    [MemberData(nameof(ReadCases))]
    public void ReadFile_on_a_synchronous_handle_succeeds_on_success_timeout_and_end_of_file_and_reports_the_bytes(string device, string statusName)
    {
        var status = Win.Status(statusName);
        using var handle = Steered(device, status, status == Win.STATUS_END_OF_FILE ? 0 : 3);
        var original = Pattern();
        var buffer = (byte[])original.Clone();

        var ok = Win32Read(handle, buffer, buffer.Length, out var read);
        var error = Kernel32.GetLastError();

        switch (status)
        {
            case Win.STATUS_END_OF_FILE:
                Assert.True(ok, $"ReadFile at end of file on a synchronous handle should be TRUE, error {error}");
                Assert.Equal(0u, read);
                Assert.Equal(Hex(SentinelLastError), Hex(error));
                break;
            case Win.STATUS_SUCCESS:
            case Win.STATUS_TIMEOUT:
                Assert.True(ok, $"ReadFile failed with {error}");
                Assert.Equal(3u, read);
                Assert.Equal(Hex(SentinelLastError), Hex(error));
                break;
            case Win.STATUS_BUFFER_OVERFLOW:
                Assert.False(ok);
                Assert.Equal(Win.ERROR_MORE_DATA, error);
                Assert.Equal(3u, read);
                break;
            default:
                Assert.False(ok);
                Assert.Equal(Win.DosError(status), error);
                Assert.Equal(0u, read);
                break;
        }
        AssertBytes(ExpectedRead(device, status, original), buffer);
    }

    public static TheoryData<string> DeviceCases() => new(Devices);

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public void WriteFile_reports_the_drivers_Information_as_bytes_written(string device)
    {
        using var handle = Open(KbTest.NewTag(), Variant(device));
        SetReadWrite(handle, Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS, information: 5));
        var data = Pattern(7);

        Assert.True(Win32Write(handle, data, out var written), $"WriteFile failed with {Kernel32.GetLastError()}");
        Assert.Equal(5u, written);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtWrite(handle, data, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 5);
    }

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public void WriteFile_failing_in_the_driver_is_FALSE_with_the_mapped_error_and_the_iosb_untouched(string device)
    {
        using var handle = Open(KbTest.NewTag(), Variant(device));
        SetReadWrite(handle, Request(Win.STATUS_UNSUCCESSFUL, Win.STATUS_UNSUCCESSFUL, information: 5));
        var data = Pattern(7);

        Assert.False(Win32Write(handle, data, out var written));
        Assert.Equal(Win.ERROR_GEN_FAILURE, Kernel32.GetLastError());
        Assert.Equal(0u, written);

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_UNSUCCESSFUL), Hex(NtWrite(handle, data, ref iosb)));
        AssertIosbUntouched(iosb);
    }

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public void Written_bytes_read_back_with_counts_and_the_rest_of_the_buffer_untouched(string device)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag, Variant(device));
        var message = Encoding.ASCII.GetBytes("hello world");

        Assert.True(Win32Write(handle, message, out var written));
        Assert.Equal(11u, written);

        var original = Pattern(32);
        var buffer = (byte[])original.Clone();
        Assert.True(Win32Read(handle, buffer, buffer.Length, out var read), $"ReadFile failed with {Kernel32.GetLastError()}");
        Assert.Equal(11u, read);
        var expected = (byte[])original.Clone();
        message.CopyTo(expected, 0);
        AssertBytes(expected, buffer);

        // A short read gets what fits.
        buffer = (byte[])original.Clone();
        Assert.True(Win32Read(handle, buffer, 4, out read));
        Assert.Equal(4u, read);
        expected = (byte[])original.Clone();
        message.AsSpan(0, 4).CopyTo(expected);
        AssertBytes(expected, buffer);

        var counters = KbTest.Counters(tag);
        Assert.Equal(1, counters.Writes);
        Assert.Equal(2, counters.Reads);
    }

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public void WriteFile_on_a_handle_without_write_access_is_ERROR_ACCESS_DENIED_and_never_reaches_the_driver(string device)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag, Variant(device), Win.GENERIC_READ);

        Assert.False(Win32Write(handle, Pattern(7), out var written));
        Assert.Equal(Win.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        Assert.Equal(0u, written);

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(NtWrite(handle, Pattern(7), ref iosb)));
        AssertIosbUntouched(iosb);
        Assert.Equal(0, KbTest.Counters(tag).Writes);
    }

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public void ReadFile_on_a_handle_without_read_access_is_ERROR_ACCESS_DENIED_and_never_reaches_the_driver(string device)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag, Variant(device), Win.GENERIC_WRITE);
        var buffer = Pattern();

        Assert.False(Win32Read(handle, buffer, buffer.Length, out var read));
        Assert.Equal(Win.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        Assert.Equal(0u, read);

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(NtRead(handle, buffer, buffer.Length, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(Pattern(), buffer);
        Assert.Equal(0, KbTest.Counters(tag).Reads);
    }

    [Fact]
    public void Buffered_read_with_Information_beyond_the_length_copies_only_the_length_and_reports_Information()
    {
        // Windows copies Information bytes and overruns the caller (driver bug); KernelBridge copies
        // the read length and leaves the rest of the caller's memory alone.
        using var handle = Steered("buffered", Win.STATUS_SUCCESS, information: 100);
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtRead(handle, buffer, 4, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 100);
        AssertBytes(Filled(original, 4), buffer);

        buffer = (byte[])original.Clone();
        Assert.True(Win32Read(handle, buffer, 4, out var read));
        Assert.Equal(100u, read);
        AssertBytes(Filled(original, 4), buffer);
    }

    [Theory]
    [MemberData(nameof(DeviceCases))]
    public unsafe void Zero_length_read_with_no_buffer_reaches_the_driver_and_reads_nothing(string device)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag, Variant(device));
        var iosb = SentinelIosb();

        var status = KernelBridge.Client.Native.Ntdll.NtReadFile(handle, 0, 0, 0, &iosb, null, 0, null, null);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status.Code));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
        Assert.Equal(1, KbTest.Counters(tag).Reads);
    }

    [Fact]
    public void Write_needs_only_FILE_APPEND_DATA_or_FILE_WRITE_DATA()
    {
        // NtWriteFile accepts a handle holding either right (WRK NtWriteFile).
        var tag = KbTest.NewTag();
        using var append = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_APPEND_DATA);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtWrite(append, Pattern(7), ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 7);
        Assert.Equal(1, KbTest.Counters(tag).Writes);
    }

    public static TheoryData<string, string> PendedReadCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in Devices)
        foreach (var status in new[] { "STATUS_SUCCESS", "STATUS_END_OF_FILE" })
            data.Add(device, status);
        return data;
    }

    [Theory]
    [MemberData(nameof(PendedReadCases))]
    public async Task Pended_read_on_a_synchronous_handle_waits_for_the_completion(string device, string statusName)
    {
        var status = Win.Status(statusName);
        var information = status == Win.STATUS_END_OF_FILE ? 0 : 3;
        using var handle = Open(KbTest.NewTag(), Variant(device));
        SetReadWrite(handle, Request(Win.STATUS_PENDING, status, information, pend: PendMode.CompleteLater, delayMs: 100));
        var original = Pattern();
        var buffer = (byte[])original.Clone();

        var call = Task.Run(() => (ok: Win32Read(handle, buffer, buffer.Length, out var read), read));
        var (ok, bytes) = await call.WaitAsync(TimeSpan.FromSeconds(10));

        // Success, or end of file on a synchronous handle: TRUE either way, with Information bytes.
        Assert.True(ok);
        Assert.Equal((uint)information, bytes);
        AssertBytes(ExpectedRead(device, status, original), buffer);
    }
}
