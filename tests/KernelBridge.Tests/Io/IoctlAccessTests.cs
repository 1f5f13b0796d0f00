using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// The access bits of a control code ((code >> 14) & 3: FILE_READ_ACCESS = FILE_READ_DATA,
/// FILE_WRITE_ACCESS = FILE_WRITE_DATA) are checked against the handle's granted access before
/// any IRP is built: STATUS_ACCESS_DENIED exactly when (granted & required) != required, so
/// read|write needs both. WRK io/iomgr/internal.c IopXxxControlFile; ReactOS iofunc.c
/// IopDeviceFsIoControl; issue2-facts section 7.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class IoctlAccessTests
{
    private static uint Access(string name) => name switch
    {
        "GENERIC_READ" => Win.GENERIC_READ,
        "GENERIC_WRITE" => Win.GENERIC_WRITE,
        "GENERIC_READ|GENERIC_WRITE" => Win.GENERIC_READ | Win.GENERIC_WRITE,
        "no access" => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>FILE_READ_DATA / FILE_WRITE_DATA the handle holds after CreateFile with that access.</summary>
    private static uint DataRights(uint access) =>
        ((access & Win.GENERIC_READ) != 0 ? Win.FILE_READ_DATA : 0) | ((access & Win.GENERIC_WRITE) != 0 ? Win.FILE_WRITE_DATA : 0);

    private static (uint Code, uint Required, int OutputLength) Code(string name) => name switch
    {
        "FILE_READ_ACCESS" => (KbTestInterface.IOCTL_KBTEST_NEEDS_READ.Value, Win.FILE_READ_DATA, 0),
        "FILE_WRITE_ACCESS" => (KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE.Value, Win.FILE_WRITE_DATA, 0),
        "FILE_READ_ACCESS|FILE_WRITE_ACCESS" => (KbTestInterface.IOCTL_KBTEST_NEEDS_READ_WRITE.Value, Win.FILE_READ_DATA | Win.FILE_WRITE_DATA, 0),
        "FILE_ANY_ACCESS" => (KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, 0, 8),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var access in new[] { "GENERIC_READ", "GENERIC_WRITE", "GENERIC_READ|GENERIC_WRITE", "no access" })
        foreach (var code in new[] { "FILE_READ_ACCESS", "FILE_WRITE_ACCESS", "FILE_READ_ACCESS|FILE_WRITE_ACCESS", "FILE_ANY_ACCESS" })
            data.Add(access, code);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ioctl_is_denied_before_reaching_the_driver_exactly_when_the_handle_lacks_a_required_right(string accessName, string codeName)
    {
        var tag = KbTest.NewTag();
        var access = Access(accessName);
        var (code, required, outputLength) = Code(codeName);
        var denied = (DataRights(access) & required) != required;
        using var handle = Open(tag, access: access);

        var output = outputLength == 0 ? null : Pattern(outputLength);
        var iosb = SentinelIosb();
        var status = NtIoctl(handle, code, null, output, ref iosb);
        var returned = SentinelBytes;
        var ok = Win32Ioctl(handle, code, null, output, ref returned);
        var error = Kernel32.GetLastError();

        if (denied)
        {
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(status));
            AssertIosbUntouched(iosb, "(the check fails before an IRP exists)");
            Assert.False(ok);
            Assert.Equal(Win.ERROR_ACCESS_DENIED, error);
            Assert.Equal(SentinelBytes, returned);
            Assert.Equal(0, KbTest.Counters(tag).DeviceControls);
        }
        else
        {
            Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status));
            AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)outputLength);
            Assert.True(ok, $"DeviceIoControl failed with {error}");
            Assert.Equal(SentinelLastError, error);
            Assert.Equal((uint)outputLength, returned);
            Assert.Equal(2, KbTest.Counters(tag).DeviceControls);
        }
    }

    [Fact]
    public void Write_access_ioctl_needs_FILE_WRITE_DATA_and_FILE_APPEND_DATA_alone_is_not_enough()
    {
        var tag = KbTest.NewTag();
        using (var append = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_APPEND_DATA))
        {
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(NtIoctl(append, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE.Value, null, null, ref iosb)));
            AssertIosbUntouched(iosb);
        }
        using (var write = NtOpen(tag, Win.SYNCHRONIZE | Win.FILE_WRITE_DATA))
        {
            var iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(write, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE.Value, null, null, ref iosb)));
            iosb = SentinelIosb();
            Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED),
                Hex(NtIoctl(write, KbTestInterface.IOCTL_KBTEST_NEEDS_READ_WRITE.Value, null, null, ref iosb)));
        }
        Assert.Equal(1, KbTest.Counters(tag).DeviceControls);
    }

    [Fact]
    public void Access_is_checked_per_handle_so_a_read_only_duplicate_of_a_read_write_handle_is_denied_write_ioctls()
    {
        var tag = KbTest.NewTag();
        using var readWrite = Open(tag);
        Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), readWrite, Kernel32.GetCurrentProcess(), out var duplicate,
            Win.GENERIC_READ, false, 0), $"DuplicateHandle failed with {Kernel32.GetLastError()}");
        using var readOnly = new OwnedHandle(duplicate);

        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_ACCESS_DENIED), Hex(NtIoctl(readOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE.Value, null, null, ref iosb)));
        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(readOnly, KbTestInterface.IOCTL_KBTEST_NEEDS_READ.Value, null, null, ref iosb)));
        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(readWrite, KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE.Value, null, null, ref iosb)));
        Assert.Equal(2, KbTest.Counters(tag).DeviceControls);

        // GENERIC_READ was mapped through the file type's generic mapping.
        var access = new byte[4];
        iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(readOnly, access, 4, 8 /* FileAccessInformation */, ref iosb)));
        Assert.Equal(Hex(Win.FILE_GENERIC_READ), Hex(BitConverter.ToUInt32(access)));
    }

    [Fact]
    public void Echo_set_prefix_0x22A010_needs_write_access_and_a_read_only_handle_gets_ERROR_ACCESS_DENIED()
    {
        Assert.Equal(0x22A010u, EchoInterface.IOCTL_ECHO_SET_PREFIX.Value);
        using var readOnly = new OwnedHandle(Kernel32.CreateFile(EchoInterface.Win32Name, Win.GENERIC_READ, 3, 0,
            CreationDisposition.OPEN_EXISTING, 0, 0));
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, readOnly.Value);

        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(readOnly, 0x22A010, Encoding.ASCII.GetBytes(">> "), null, ref returned));
        Assert.Equal(Win.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);

        // The prefix was not set: an echo on the same handle comes back bare.
        var output = new byte[16];
        returned = SentinelBytes;
        Assert.True(Win32Ioctl(readOnly, EchoInterface.IOCTL_ECHO_BUFFERED.Value, Encoding.ASCII.GetBytes("ping"), output, ref returned));
        Assert.Equal(4u, returned);
        Assert.Equal("ping", Encoding.ASCII.GetString(output, 0, 4));
    }
}
