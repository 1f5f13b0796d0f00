using KernelBridge.Abi;

namespace KernelBridge.TestDriver;

/// <summary>The test driver's secured devices and ports (made with IoCreateDeviceSecure and SDDL).</summary>
public static class KbTestSecurityInterface
{
    /// <summary>SYSTEM and Administrators only (SDDL_DEVOBJ_SYS_ALL_ADM_ALL), names below it guarded too.</summary>
    public const string Secure = "Secure";

    /// <summary>SYSTEM only, with FILE_DEVICE_SECURE_OPEN: \Device\KbTestSystemSecureOpen\sub is refused like the device.</summary>
    public const string SystemSecureOpen = "SystemSecureOpen";

    /// <summary>SYSTEM only, without FILE_DEVICE_SECURE_OPEN: the device is refused, names below it are the driver's to judge.</summary>
    public const string SystemOnly = "SystemOnly";

    public const string AdminsOnlySddl = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
    public const string SystemOnlySddl = "D:P(A;;GA;;;SY)";

    /// <summary>The class GUID the secured devices are made with (GUID_DEVCLASS-like, KernelBridge's test class).</summary>
    public static readonly Guid ClassGuid = new("6b1f3c1e-6f2a-4e55-9d4a-0b6d2d7c0a11");

    public static IReadOnlyList<(string Variant, string Sddl, DeviceCharacteristics Characteristics)> Devices { get; } =
    [
        (Secure, AdminsOnlySddl, DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN),
        (SystemSecureOpen, SystemOnlySddl, DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN),
        (SystemOnly, SystemOnlySddl, DeviceCharacteristics.None),
    ];

    /// <summary>
    /// Input: <see cref="PortCreateRequest"/>, an int (the SDDL's length in chars), the SDDL (UTF-16),
    /// then the port name (UTF-16): FltCreateCommunicationPort with that descriptor.
    /// </summary>
    public static readonly CtlCode IOCTL_KBTEST_PORT_CREATE_SECURE = CtlCode.Make(0x22, 0x960, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: an SDDL string (UTF-16). IoCreateDeviceSecure with it (the device is deleted again at once); the status is the answer.</summary>
    public static readonly CtlCode IOCTL_KBTEST_CREATE_DEVICE_SDDL = CtlCode.Make(0x22, 0x961, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
}
