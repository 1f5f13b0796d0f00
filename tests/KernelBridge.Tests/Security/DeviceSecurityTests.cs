using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;

namespace KernelBridge.Tests.Security;

/// <summary>
/// Devices and ports carry descriptors: IoCreateDeviceSecure's SDDL decides who opens the device, and
/// with FILE_DEVICE_SECURE_OPEN names below it too (without it, opens below the device are the driver's
/// to judge); the SDDL of FltCreateCommunicationPort decides who connects. The caller here is root:
/// an administrator, but not SYSTEM.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class DeviceSecurityTests
{
    private static string Device(string variant) => KbTestInterface.Device(KbTestInterface.ServiceName, variant);

    [Fact]
    public void A_device_made_with_IoCreateDeviceSecure_for_SYSTEM_and_Administrators_opens_for_an_administrator()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(Device(KbTestSecurityInterface.Secure), out var handle));
        ObTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(Device(KbTestSecurityInterface.Secure) + @"\sub", out handle));
        ObTest.Close(handle);
    }

    [Fact]
    public void FILE_DEVICE_SECURE_OPEN_makes_the_devices_descriptor_guard_names_below_it_and_without_it_they_are_not_checked()
    {
        var tag = KbTest.NewTag();
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.NtCreateFile(Device(KbTestSecurityInterface.SystemSecureOpen), out var refused));
        Assert.Equal(0, refused);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.NtCreateFile(Device(KbTestSecurityInterface.SystemSecureOpen) + tag, out refused));
        Assert.Equal(0, refused);

        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, ObTest.NtCreateFile(Device(KbTestSecurityInterface.SystemOnly), out refused));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(Device(KbTestSecurityInterface.SystemOnly) + tag, out var below));
        ObTest.Close(below);
        // The refused opens never reached the driver; the one below the unsecured device did.
        Assert.Equal(1, KbTest.Counters(tag).Creates);
    }

    [Fact]
    public void Malformed_SDDL_makes_IoCreateDeviceSecure_fail_with_STATUS_INVALID_PARAMETER()
    {
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, CreateDeviceWithSddl("D:P(A;;GA;;;SY"));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, CreateDeviceWithSddl("D:P(A;;GA;;;NOSUCHALIAS)"));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, CreateDeviceWithSddl("X:nonsense"));
        Assert.Equal(NtStatus.STATUS_SUCCESS, CreateDeviceWithSddl(Ddk.Io.SDDL_DEVOBJ_SYS_ALL_ADM_ALL));
    }

    [Fact]
    public void A_ports_SDDL_is_enforced_at_FilterConnectCommunicationPort()
    {
        var systemOnly = CreatePort("D:P(A;;0x1f0001;;;SY)");
        var administrators = CreatePort("D:P(A;;0x1f0001;;;SY)(A;;0x1f0001;;;BA)");
        try
        {
            var hr = FltLib.FilterConnectCommunicationPort(systemOnly, 0, default, 0, 0, out var port);
            Assert.Equal(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_ACCESS_DENIED), hr);
            Assert.Equal(0, port);
            hr = FltLib.FilterConnectCommunicationPort(administrators, 0, default, 0, 0, out port);
            Assert.Equal(FltLib.S_OK, hr);
            Kernel32.CloseHandle(port);
        }
        finally
        {
            ClosePort(systemOnly);
            ClosePort(administrators);
        }
        Assert.Throws<InvalidOperationException>(() => CreatePort("D:(A;;GA;;;"));
    }

    private static NtStatus CreateDeviceWithSddl(string sddl) => Control(KbTestSecurityInterface.IOCTL_KBTEST_CREATE_DEVICE_SDDL, Encoding.Unicode.GetBytes(sddl));

    private static string CreatePort(string sddl)
    {
        var name = @"\KbSecPort" + Guid.NewGuid().ToString("N")[..12];
        byte[] input = [.. KbTest.Bytes(new PortCreateRequest(4, 0, 0, 0)), .. BitConverter.GetBytes(sddl.Length), .. Encoding.Unicode.GetBytes(sddl),
            .. Encoding.Unicode.GetBytes(name)];
        var status = Control(KbTestSecurityInterface.IOCTL_KBTEST_PORT_CREATE_SECURE, input);
        if (!status.IsSuccess) throw new InvalidOperationException($"PORT_CREATE_SECURE: {status}");
        return name;
    }

    private static void ClosePort(string name) => Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_SERVER, Encoding.Unicode.GetBytes(name));

    private static NtStatus Control(CtlCode code, byte[] input)
    {
        var handle = KbTest.Open(@"\security");
        try
        {
            using var output = new NativeBuffer(1);
            using var iosb = new NativeBuffer(16);
            return ObTest.IoctlNative(handle, code, input, output, iosb);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }
}
