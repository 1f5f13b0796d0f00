using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>Security descriptors on what drivers make, as the Ddk's <see cref="Io"/> reaches them.</summary>
internal partial interface IKernelRuntime
{
    NtStatus CreateDeviceSecure(DriverObject driver, object? extension, string? deviceName, DeviceType deviceType, DeviceCharacteristics characteristics,
        bool exclusive, string sddl, Guid classGuid, out DeviceObject? device);
}
