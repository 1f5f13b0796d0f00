using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

/// <summary>The test driver's secured devices (IoCreateDeviceSecure) and ports with descriptors.</summary>
public sealed partial class KbTestDriver
{
    private static int _probes;

    private static NtStatus CreateSecureDevices(DriverObject driverObject)
    {
        var service = driverObject.ServiceKeyName;
        foreach (var (variant, sddl, characteristics) in KbTestSecurityInterface.Devices)
        {
            var status = Io.CreateDeviceSecure(driverObject, variant, KbTestInterface.Device(service, variant), DeviceType.FILE_DEVICE_UNKNOWN,
                characteristics, exclusive: false, sddl, KbTestSecurityInterface.ClassGuid, out var device);
            if (!status.IsSuccess) return status;
            device!.Flags |= DeviceFlags.DO_BUFFERED_IO;
            device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        }
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus SecurityControl(DeviceObject device, Irp irp, CtlCode code, ReadOnlySpan<byte> input)
    {
        if (code == KbTestSecurityInterface.IOCTL_KBTEST_CREATE_DEVICE_SDDL)
        {
            var name = KbTestInterface.Device(device.DriverObject.ServiceKeyName, "Probe" + Interlocked.Increment(ref _probes));
            var status = Io.CreateDeviceSecure(device.DriverObject, null, name, DeviceType.FILE_DEVICE_UNKNOWN, DeviceCharacteristics.None, exclusive: false,
                NameAfter(input, 0), KbTestSecurityInterface.ClassGuid, out var probe);
            if (probe is not null) Io.DeleteDevice(probe);
            return Complete(irp, status, 0);
        }
        if (code == KbTestSecurityInterface.IOCTL_KBTEST_PORT_CREATE_SECURE)
        {
            var size = Marshal.SizeOf<PortCreateRequest>();
            if (input.Length < size + 4) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var settings = MemoryMarshal.Read<PortCreateRequest>(input);
            var sddlChars = MemoryMarshal.Read<int>(input[size..]);
            if (sddlChars < 0 || input.Length < size + 4 + sddlChars * 2) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var sddl = new string(MemoryMarshal.Cast<byte, char>(input.Slice(size + 4, sddlChars * 2)));
            var name = NameAfter(input, size + 4 + sddlChars * 2);
            var port = new PortState(settings, device.DriverObject);
            var status = Flt.CreateCommunicationPort(device.DriverObject, out port.Server, name, sddl, port, OnConnect, OnDisconnect,
                settings.WithMessageCallback != 0 ? OnUserMessage : null, settings.MaxConnections);
            if (status.IsSuccess) Ports[name] = port;
            return Complete(irp, status, 0);
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}
