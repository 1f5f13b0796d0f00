using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>The access check IopParseDevice makes when a name leads to a device.</summary>
internal sealed partial class SystemServices
{
    /// <summary>
    /// An open of the device itself is checked against the device's descriptor; an open of a name
    /// below it (\Device\X\sub) only when the device has FILE_DEVICE_SECURE_OPEN; otherwise what lies
    /// below is the driver's to guard. The rights are a file's, mapped through the file mapping.
    /// </summary>
    private static NtStatus CheckDeviceAccess(Token token, DeviceObject device, string remaining, uint desiredAccess, out uint granted)
    {
        // An open asking no access at all (to send FILE_ANY_ACCESS controls) is no use against a descriptor.
        if (GenericMapping.File.Map(desiredAccess) == 0)
        {
            granted = 0;
            return NtStatus.STATUS_SUCCESS;
        }
        var checkDescriptor = remaining.Length == 0 || (device.Characteristics & DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN) != 0;
        var descriptor = checkDescriptor ? ObjectManager.SecurityOf(device) : null;
        return AccessCheck.Check(descriptor, token, desiredAccess, GenericMapping.File, ObjectTypes.File.ValidAccessMask, out granted);
    }
}
