using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// Bad arguments to NtDeviceIoControlFile and friends get the status Windows gives, in Windows'
/// order (WRK io/iomgr/internal.c IopXxxControlFile, issue2-facts section 7): the user-mode probes
/// first (IOSB writable; METHOD_BUFFERED output and non-NEITHER input buffers, a NULL one counting
/// as length 0; the MDL of a direct method's output buffer: STATUS_ACCESS_VIOLATION), then the
/// handle (STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH), then the access bits.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class IoctlBadInputTests
{
    public static TheoryData<TransferMethod> AllMethods() => new(
        TransferMethod.METHOD_BUFFERED, TransferMethod.METHOD_IN_DIRECT, TransferMethod.METHOD_OUT_DIRECT, TransferMethod.METHOD_NEITHER);

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Null_iosb_is_STATUS_ACCESS_VIOLATION_and_the_driver_never_sees_the_request(TransferMethod method)
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS));
        var output = Pattern();
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        {
            var status = Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, null, ReturnCode(method).Value, inPointer, (uint)input.Length,
                outPointer, (uint)output.Length);
            Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(status.Code));
        }
        AssertBytes(Pattern(), output);
        Assert.Equal(0, KbTest.Counters(tag).DeviceControls);
    }

    [Fact]
    public void Null_iosb_is_checked_before_the_handle()
    {
        var status = Ntdll.NtDeviceIoControlFile(0x7FFC, 0, 0, 0, null, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, null, 0, null, 0);
        Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(status.Code));
    }

    [Theory]
    [InlineData(TransferMethod.METHOD_IN_DIRECT)]
    [InlineData(TransferMethod.METHOD_OUT_DIRECT)]
    public void Direct_method_with_a_null_output_buffer_and_a_length_is_STATUS_ACCESS_VIOLATION(TransferMethod method)
    {
        // The I/O manager builds and probes an MDL over OutputBuffer whenever OutputBufferLength != 0.
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS));
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(NtIoctl(handle, ReturnCode(method).Value, input, null, 16, ref iosb)));
        AssertIosbUntouched(iosb);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(handle, ReturnCode(method).Value, input, null, 16, ref returned));
        Assert.Equal(Win.ERROR_NOACCESS, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
        Assert.Equal(0, KbTest.Counters(tag).DeviceControls);

        // The probe comes before the handle.
        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(NtIoctl(0x7FFC, ReturnCode(method).Value, input, null, 16, ref iosb)));
    }

    [Fact]
    public void Neither_method_is_not_probed_so_a_null_output_buffer_with_a_length_reaches_the_driver()
    {
        // METHOD_NEITHER: Type3InputBuffer and UserBuffer are passed raw, nothing is probed; the
        // driver, which here writes nothing (FillLength 0), decides.
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS, information: 0, fillLength: 0));
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_NEITHER.Value, input, null, 16, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
        Assert.Equal(1, KbTest.Counters(tag).DeviceControls);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Invalid_handle_is_STATUS_INVALID_HANDLE_and_ERROR_INVALID_HANDLE(TransferMethod method)
    {
        nint closed;
        using (var handle = Open(KbTest.NewTag())) closed = handle.Value;
        var input = KbTest.Bytes(Request(Win.STATUS_SUCCESS, Win.STATUS_SUCCESS));
        var original = Pattern();
        var output = (byte[])original.Clone();

        foreach (var bad in new[] { closed, (nint)0, (nint)0x7FFC })
        {
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_INVALID_HANDLE), Hex(NtIoctl(bad, ReturnCode(method).Value, input, output, ref iosb)));
            AssertIosbUntouched(iosb);

            var returned = SentinelBytes;
            Assert.False(Win32Ioctl(bad, ReturnCode(method).Value, input, output, ref returned));
            Assert.Equal(Win.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
            Assert.Equal(SentinelBytes, returned);
        }
        AssertBytes(original, output);
    }

    [Fact]
    public void Ioctl_on_a_handle_that_is_not_a_file_is_STATUS_OBJECT_TYPE_MISMATCH_and_ERROR_INVALID_HANDLE()
    {
        nint directory;
        var opened = Ntdll.NtOpenDirectoryObject(&directory, 1 /* DIRECTORY_QUERY */, new ObjectAttributes(@"\"));
        Assert.True(opened.IsSuccess, $"NtOpenDirectoryObject(\\) failed with {opened}");
        using var handle = new OwnedHandle(directory);
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_OBJECT_TYPE_MISMATCH),
            Hex(NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, null, new byte[8], ref iosb)));
        AssertIosbUntouched(iosb);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, null, new byte[8], ref returned));
        Assert.Equal(Win.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
    }

    [Fact]
    public void Read_or_write_with_a_null_buffer_and_a_length_is_STATUS_ACCESS_VIOLATION()
    {
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(Ntdll.NtReadFile(handle, 0, 0, 0, &iosb, null, 16, null, null).Code));
        Assert.Equal(Hex(Win.STATUS_ACCESS_VIOLATION), Hex(Ntdll.NtWriteFile(handle, 0, 0, 0, &iosb, null, 16, null, null).Code));
        AssertIosbUntouched(iosb);
        var counters = KbTest.Counters(tag);
        Assert.Equal(0, counters.Reads);
        Assert.Equal(0, counters.Writes);
    }

    [Fact]
    public void Buffered_ioctl_with_a_null_input_buffer_passes_InputBufferLength_0_to_the_driver()
    {
        // IopXxxControlFile: "if (ARGUMENT_PRESENT(InputBuffer)) ProbeForRead(...) else InputBufferLength = 0"
        // for every method but NEITHER, and the IRP's Parameters.DeviceIoControl.InputBufferLength
        // is that forced 0. The test driver rejects a RETURN request shorter than ReturnRequest
        // with STATUS_INVALID_PARAMETER, so that is what Windows answers.
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var output = Pattern(SizeOfReturnRequest);
        var iosb = SentinelIosb();

        var status = NtIoctlNullInput(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, (uint)SizeOfReturnRequest, output, ref iosb);

        Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(status));
        AssertIosbUntouched(iosb);
        AssertBytes(Pattern(SizeOfReturnRequest), output);
    }

    [Fact]
    public void Echo_with_a_null_input_buffer_and_a_length_echoes_nothing()
    {
        // Same rule seen through the Echo driver: InputBufferLength is 0, so the echo is empty
        // (STATUS_SUCCESS, 0 bytes) and the caller's output buffer is left as it was.
        using var echo = new OwnedHandle(Kernel32.CreateFile(EchoInterface.Win32Name, KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, echo.Value);
        var original = Pattern(16);
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        var status = NtIoctlNullInput(echo, EchoInterface.IOCTL_ECHO_BUFFERED.Value, 8, output, ref iosb);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
        AssertBytes(original, output);
    }

    [Fact]
    public void Buffered_ioctl_with_a_null_output_buffer_passes_OutputBufferLength_0_to_the_driver()
    {
        // IopXxxControlFile: METHOD_BUFFERED "if (ARGUMENT_PRESENT(OutputBuffer)) ProbeForWrite(...)
        // else OutputBufferLength = 0". IOCTL_KBTEST_FSCONTEXT answers a length below 8 with
        // STATUS_BUFFER_TOO_SMALL. Run in a kernel of its own: if the driver is told 8 bytes that
        // are not there, it faults, and a faulted driver stays faulted.
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("ioctl-nulloutput"), "--persistent", "--driver",
            KernelProcess.TestDriverPath);
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        var tag = KbTest.NewTag();
        using var handle = Open(tag);
        var iosb = SentinelIosb();

        var status = NtIoctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, null, null, 8, ref iosb);

        Assert.Equal(Hex(Win.STATUS_BUFFER_TOO_SMALL), Hex(status));
        AssertIosbUntouched(iosb);
    }

    private static uint NtIoctlNullInput(nint handle, uint code, uint inputLength, byte[] output, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* outPointer = output)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, iosbPointer, code, null, inputLength, outPointer, (uint)output.Length).Code;
        }
    }
}
