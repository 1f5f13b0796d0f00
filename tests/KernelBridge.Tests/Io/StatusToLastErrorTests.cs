using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// A driver's status reaches the Win32 caller as Windows' last error: the test driver completes
/// an IOCTL with the status, DeviceIoControl fails and GetLastError is RtlNtStatusToDosError of it,
/// with the values Windows gives (Wine dlls/ntdll/error.h, generated from Windows, and
/// dlls/ntdll/tests/error.c in strict mode).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class StatusToLastErrorTests
{
    [Theory]
    [InlineData(0x80000006u, 18u)] // STATUS_NO_MORE_FILES -> ERROR_NO_MORE_FILES
    [InlineData(0xC000000Eu, 433u)] // STATUS_NO_SUCH_DEVICE -> ERROR_NO_SUCH_DEVICE
    [InlineData(0xC0000253u, 1236u)] // STATUS_LPC_REPLY_LOST -> ERROR_CONNECTION_ABORTED
    [InlineData(0xC000000Bu, 87u)] // STATUS_INVALID_CID -> ERROR_INVALID_PARAMETER
    [InlineData(0xC000000Cu, 541u)] // STATUS_TIMER_NOT_CANCELED -> ERROR_TIMER_NOT_CANCELED
    [InlineData(0xC0000041u, 5u)] // STATUS_PORT_CONNECTION_REFUSED -> ERROR_ACCESS_DENIED
    [InlineData(0xC0000042u, 6u)] // STATUS_INVALID_PORT_HANDLE -> ERROR_INVALID_HANDLE
    [InlineData(0xC000004Bu, 5u)] // STATUS_THREAD_IS_TERMINATING -> ERROR_ACCESS_DENIED
    [InlineData(0xC0000060u, 1313u)] // STATUS_NO_SUCH_PRIVILEGE -> ERROR_NO_SUCH_PRIVILEGE
    [InlineData(0xC00000CBu, 66u)] // STATUS_BAD_DEVICE_TYPE -> ERROR_BAD_DEV_TYPE
    public void Regression_a_driver_status_becomes_the_last_error_Windows_gives(uint status, uint error)
    {
        using var handle = Open(KbTest.NewTag());
        var output = Pattern();
        var returned = SentinelBytes;

        var ok = Win32Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, KbTest.Bytes(Request(status, status, information: 0)),
            output, ref returned);

        Assert.False(ok);
        Assert.Equal(Hex(error), Hex(Kernel32.GetLastError()));
    }
}
