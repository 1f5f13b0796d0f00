using KernelBridge.Abi.Security;

namespace KernelBridge.Kernel;

/// <summary>What the Ddk reaches for security descriptors: IoCreateDeviceSecure.</summary>
internal sealed partial class DdkExports
{
    public NtStatus CreateDeviceSecure(DriverObject driver, object? extension, string? deviceName, DeviceType deviceType,
        DeviceCharacteristics characteristics, bool exclusive, string sddl, Guid classGuid, out DeviceObject? device)
    {
        device = null;
        _ = classGuid;
        if (Sddl.TryParse(sddl, out var descriptor, out _) != Win32Error.ERROR_SUCCESS) return NtStatus.STATUS_INVALID_PARAMETER;
        return io.CreateDevice(driver, extension, deviceName, deviceType, characteristics, exclusive, out device, descriptor);
    }
}
