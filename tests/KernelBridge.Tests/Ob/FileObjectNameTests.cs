using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// NtQueryObject(ObjectNameInformation) on a file is the device's name followed by what the driver
/// answers to IRP_MJ_QUERY_INFORMATION(FileNameInformation) (IopQueryName / IopQueryNameInternal).
/// When the driver fails with STATUS_NOT_IMPLEMENTED, STATUS_INVALID_INFO_CLASS,
/// STATUS_INVALID_PARAMETER or STATUS_INVALID_DEVICE_REQUEST the name is the device's alone; any
/// other error is returned; a name that does not start with a backslash is
/// STATUS_OBJECT_PATH_INVALID (Wine ntoskrnl.c test_object_info, run on Windows: "notimpl",
/// "badparam" give \Device\WineTestDriver, "genfail" STATUS_UNSUCCESSFUL, "badtype"
/// STATUS_OBJECT_TYPE_MISMATCH). The IRP may pend: the kernel parks the call.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class FileObjectNameTests(KernelFixture fixture)
{
    private const string Device = @"\Device\KbTest";

    private static int FullNameSize(string name) => ObTest.UnicodeStringSize + name.Length * 2 + 2;

    /// <summary>Tells the test driver how this file object answers FileNameInformation (SET_NAME).</summary>
    private static void SetName(nint handle, NtStatus status, string name = "", PendMode pend = PendMode.None, int delayMs = 0)
    {
        var input = KbTest.Bytes(new NameAnswer(status.Value, pend, delayMs, 0)).Concat(MemoryMarshal.AsBytes(name.AsSpan()).ToArray()).ToArray();
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_SET_NAME.Value, input, [], ref returned),
            $"SET_NAME failed: {Kernel32.GetLastError()}");
    }

    [Fact]
    public void Regression_the_name_of_a_file_is_the_device_name_followed_by_the_name_the_driver_reports()
    {
        var tag = KbTest.NewTag();
        using var handle = new OwnedHandle(KbTest.Open(tag));
        SetName(handle, NtStatus.STATUS_SUCCESS, @"\reported\by\the\driver");

        var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512);

        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        var expected = Device + @"\reported\by\the\driver";
        Assert.Equal((uint)FullNameSize(expected), result.ReturnLength);
        var name = result.StringAt(0);
        Assert.Equal(expected, name.Value);
        Assert.Equal(expected.Length * 2 + 2, name.MaximumLength);
        Assert.True(name.Terminated);
        Assert.Equal(1, KbTest.Counters(tag).QueryInformation);
    }

    [Theory]
    [InlineData(0xC0000002u)] // STATUS_NOT_IMPLEMENTED
    [InlineData(0xC0000003u)] // STATUS_INVALID_INFO_CLASS
    [InlineData(0xC000000Du)] // STATUS_INVALID_PARAMETER
    [InlineData(0xC0000010u)] // STATUS_INVALID_DEVICE_REQUEST
    public void Regression_a_driver_that_keeps_no_names_leaves_the_device_name_alone(uint status)
    {
        using var handle = new OwnedHandle(KbTest.Open(KbTest.NewTag()));
        SetName(handle, (NtStatus)status);

        var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal((uint)FullNameSize(Device), result.ReturnLength);
        Assert.Equal(Device, result.StringAt(0).Value);
        Assert.True(result.StringAt(0).Terminated);

        // Too small a buffer reports the device's name alone as the size needed.
        var small = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, ObTest.UnicodeStringSize);
        Assert.Equal(NtStatus.STATUS_BUFFER_OVERFLOW, small.Status);
        Assert.Equal((uint)FullNameSize(Device), small.ReturnLength);
    }

    [Theory]
    [InlineData(0xC0000001u)] // STATUS_UNSUCCESSFUL
    [InlineData(0xC0000024u)] // STATUS_OBJECT_TYPE_MISMATCH
    [InlineData(0xC0000022u)] // STATUS_ACCESS_DENIED
    [InlineData(0xC0000023u)] // STATUS_BUFFER_TOO_SMALL
    [InlineData(0xC0000185u)] // STATUS_IO_DEVICE_ERROR
    public void Regression_any_other_driver_error_is_the_callers_answer_and_nothing_is_written(uint status)
    {
        using var handle = new OwnedHandle(KbTest.Open(KbTest.NewTag()));
        SetName(handle, (NtStatus)status);

        foreach (var length in new[] { 512, ObTest.UnicodeStringSize, 0 })
        {
            var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, length);
            Assert.Equal((NtStatus)status, result.Status);
            Assert.Equal(0xDEADBEEFu, result.ReturnLength);
            Assert.All(result.Buffer, b => Assert.Equal(0xCC, b));
        }
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("")]
    public void Regression_a_reported_name_that_does_not_start_with_a_backslash_is_STATUS_OBJECT_PATH_INVALID(string reported)
    {
        using var handle = new OwnedHandle(KbTest.Open(KbTest.NewTag()));
        SetName(handle, NtStatus.STATUS_SUCCESS, reported);

        var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512);
        Assert.Equal(NtStatus.STATUS_OBJECT_PATH_INVALID, result.Status);
    }

    [Fact]
    public void The_driver_is_asked_for_the_length_of_its_part_even_when_the_buffer_is_too_small()
    {
        var tag = KbTest.NewTag();
        using var handle = new OwnedHandle(KbTest.Open(tag));
        var reported = @"\" + new string('n', 100);
        SetName(handle, NtStatus.STATUS_SUCCESS, reported);

        var result = ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 8);
        Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, result.Status);
        Assert.Equal((uint)FullNameSize(Device + reported), result.ReturnLength);
        Assert.Equal(1, KbTest.Counters(tag).QueryInformation);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x40000000u)] // FILE_FLAG_OVERLAPPED: the I/O manager waits for the query all the same
    public async Task Regression_a_name_query_the_driver_pends_is_answered_when_the_driver_completes_it(uint flags)
    {
        var tag = KbTest.NewTag();
        using var handle = new OwnedHandle(KbTest.Open(tag, flags: flags));
        SetName(handle, NtStatus.STATUS_SUCCESS, @"\later", PendMode.CompleteLater, 200);

        var result = await ObTest.Bounded(() => ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512));

        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        Assert.Equal(Device + @"\later", result.StringAt(0).Value);
    }

    [Fact]
    public async Task Regression_a_parked_name_query_holds_no_kernel_thread_and_ends_as_the_driver_says()
    {
        var tag = KbTest.NewTag();
        using var handle = new OwnedHandle(KbTest.Open(tag));
        var otherTag = KbTest.NewTag();
        using var other = new OwnedHandle(KbTest.Open(otherTag));
        SetName(handle, NtStatus.STATUS_SUCCESS, pend: PendMode.Park);
        try
        {
            var call = ObTest.RunBlocking(() => ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512));
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the name query was not parked");

            // The same connection is answered while the name query waits, names included.
            Assert.Equal(Device + otherTag, await ObTest.Bounded(() => ObTest.ObjectName(other)));
            Assert.False(call.IsCompleted, "the name query returned while its IRP was parked");

            Assert.Equal(1, await ObTest.Bounded(() => KbTest.Release(tag, NtStatus.STATUS_NOT_IMPLEMENTED)));
            var result = await call.WaitAsync(ObTest.Timeout);
            Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
            Assert.Equal(Device, result.StringAt(0).Value);
        }
        finally
        {
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
        }
    }

    [Fact]
    public async Task A_parked_name_query_of_a_process_that_goes_away_is_cancelled()
    {
        var tag = KbTest.NewTag();
        var process = ObTest.NewProcess(fixture);
        var gone = false;
        try
        {
            nint handle;
            using (GateClient.Use(process))
            {
                handle = KbTest.Open(tag);
                SetName(handle, NtStatus.STATUS_SUCCESS, pend: PendMode.Park);
            }
            var call = ObTest.RunBlocking(process, () => ObTest.QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 512).Status);
            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag).Parked == 1), "the name query was not parked");

            process.Dispose();
            gone = true;

            Assert.True(await ObTest.EventuallyAsync(() => KbTest.Counters(tag) is { Cancels: 1, Parked: 0, Closes: 1 }),
                $"counters: {KbTest.Counters(tag)}");
            Assert.NotEqual(NtStatus.STATUS_SUCCESS, await call.WaitAsync(ObTest.Timeout));
        }
        finally
        {
            if (!gone) process.Dispose();
            ObTest.ReleaseQuietly(tag, NtStatus.STATUS_CANCELLED);
        }
    }
}
