using KernelBridge.Abi;

namespace KernelBridge.Ddk;

public static partial class Io
{
    /// <summary>
    /// IoCreateDeviceSecure (WdmlibIoCreateDeviceSecure): IoCreateDevice with the device's security
    /// descriptor given as SDDL, e.g. "D:P(A;;GA;;;SY)(A;;GA;;;BA)" (SDDL_DEVOBJ_SYS_ALL_ADM_ALL).
    /// Malformed SDDL is STATUS_INVALID_PARAMETER and makes no device. The descriptor decides who
    /// may open the device, and, with <see cref="DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN"/>,
    /// names below it too. <paramref name="deviceClassGuid"/> names the setup class (Windows lets the
    /// class's registry key override the SDDL; KernelBridge has no registry, so it only travels along).
    /// </summary>
    public static NtStatus CreateDeviceSecure(DriverObject driverObject, object? deviceExtension, string? deviceName, DeviceType deviceType,
        DeviceCharacteristics characteristics, bool exclusive, string defaultSddlString, Guid deviceClassGuid, out DeviceObject? deviceObject) =>
        KernelRuntime.Of(driverObject).CreateDeviceSecure(driverObject, deviceExtension, deviceName, deviceType, characteristics, exclusive,
            defaultSddlString, deviceClassGuid, out deviceObject);

    /// <summary>SDDL_DEVOBJ_SYS_ALL_ADM_ALL: SYSTEM and Administrators only.</summary>
    public const string SDDL_DEVOBJ_SYS_ALL_ADM_ALL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";

    /// <summary>SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R: everyone may read and write; SYSTEM everything, Administrators read, write and execute.</summary>
    public const string SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R = "D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGW;;;WD)(A;;GR;;;RC)";
}
