using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// A device created with Exclusive = TRUE (DO_EXCLUSIVE) opens once: IopCheckDeviceAndDriver
/// refuses a second open with STATUS_ACCESS_DENIED while the device is referenced by a file
/// (WRK iomgr/parse.c; ReactOS io/iomgr/file.c). Duplicated handles share the one file object.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class ExclusiveDeviceTests(KernelFixture fixture)
{
    private const string Exclusive = "Exclusive";

    [Fact]
    public void A_second_open_of_an_exclusive_device_fails_with_ERROR_ACCESS_DENIED_until_the_first_is_closed()
    {
        var tag = KbTest.NewTag();
        var first = KbTest.Open(tag, Exclusive);
        try
        {
            var (second, error) = ObTest.CreateFile(KbTest.Path(tag, Exclusive));
            if (second != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(second);
            Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, second);
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, error);
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.NtCreateFile(@"\Device\KbTestExclusive" + tag, out var third));
            ObTest.Close(third);
            // The refused opens never reached the driver.
            Assert.Equal(1, KbTest.Counters(tag).Creates);
        }
        finally
        {
            Kernel32.CloseHandle(first);
        }

        var again = KbTest.Open(tag, Exclusive);
        Assert.True(Kernel32.CloseHandle(again));
        var counters = KbTest.Counters(tag);
        Assert.Equal(2, counters.Creates);
        Assert.Equal(2, counters.Closes);
    }

    [Fact]
    public void An_exclusive_device_open_in_one_process_is_refused_to_another()
    {
        var tag = KbTest.NewTag();
        var first = KbTest.Open(tag, Exclusive);
        try
        {
            using var other = ObTest.NewProcess(fixture);
            using (GateClient.Use(other))
            {
                var (second, error) = ObTest.CreateFile(KbTest.Path(tag, Exclusive));
                if (second != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(second);
                Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, second);
                Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, error);
            }
        }
        finally
        {
            Kernel32.CloseHandle(first);
        }
    }

    [Fact]
    public void Duplicating_a_handle_to_an_exclusive_device_is_allowed_and_the_device_stays_busy_until_the_last_handle_closes()
    {
        var tag = KbTest.NewTag();
        var first = KbTest.Open(tag, Exclusive);
        nint duplicate = 0;
        try
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(first, out duplicate, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            Assert.True(Kernel32.CloseHandle(first));
            first = 0;
            var (second, error) = ObTest.CreateFile(KbTest.Path(tag, Exclusive));
            if (second != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(second);
            Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, second);
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, error);
        }
        finally
        {
            ObTest.Close(first);
            ObTest.Close(duplicate);
        }
        var again = KbTest.Open(tag, Exclusive);
        Kernel32.CloseHandle(again);
    }
}
