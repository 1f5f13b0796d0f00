using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// A MajorFunction slot the driver left empty is IopInvalidDeviceRequest: the IRP completes with
/// STATUS_INVALID_DEVICE_REQUEST (ERROR_INVALID_FUNCTION), not pended and an error, so the IOSB
/// stays untouched (WRK ioinit.c / internal.c; ReactOS io/iomgr/driver.c; issue2-facts section 10).
/// The Null device: reads are at end of file (a synchronous ReadFile is TRUE with 0 bytes), writes
/// take every byte.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class DefaultDispatchTests
{
    private static OwnedHandle OpenNamed(string name)
    {
        var handle = Kernel32.CreateFile(name, KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile({name}) failed with {Kernel32.GetLastError()}");
        return new OwnedHandle(handle);
    }

    [Fact]
    public void Ioctl_to_a_driver_without_a_device_control_routine_is_STATUS_INVALID_DEVICE_REQUEST()
    {
        using var nul = OpenNamed(@"\\.\NUL");
        var code = CtlCode.Make(0x22, 0x800, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS).Value;
        var original = Pattern();
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(NtIoctl(nul, code, [1, 2, 3], output, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(original, output);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(nul, code, [1, 2, 3], output, ref returned));
        Assert.Equal(Win.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
    }

    [Fact]
    public void Query_information_to_a_driver_without_that_routine_is_STATUS_INVALID_DEVICE_REQUEST()
    {
        using var echo = OpenNamed(EchoInterface.Win32Name);
        var original = Pattern(64);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(NtQueryFile(echo, buffer, buffer.Length, 9 /* FileNameInformation */, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(original, buffer);
    }

    [Fact]
    public void Null_device_read_is_end_of_file_and_a_synchronous_ReadFile_is_TRUE_with_0_bytes()
    {
        using var nul = OpenNamed(@"\\.\NUL");
        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_END_OF_FILE), Hex(NtRead(nul, buffer, buffer.Length, ref iosb)));
        AssertIosbUntouched(iosb);

        Assert.True(Win32Read(nul, buffer, buffer.Length, out var read), $"ReadFile failed with {Kernel32.GetLastError()}");
        Assert.Equal(0u, read);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());
        AssertBytes(original, buffer);
    }

    [Fact]
    public void Null_device_write_takes_every_byte()
    {
        using var nul = OpenNamed(@"\\.\NUL");
        Assert.True(Win32Write(nul, Pattern(100), out var written), $"WriteFile failed with {Kernel32.GetLastError()}");
        Assert.Equal(100u, written);

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtWrite(nul, Pattern(33), ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 33);
    }
}
