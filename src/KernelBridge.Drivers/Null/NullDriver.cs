using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Null;

/// <summary>\Device\Null: writes vanish (all bytes accepted), reads find the end of the file at once.</summary>
public sealed class NullDriver : IDriver
{
    public const string DeviceName = @"\Device\Null";
    public const string DosName = @"\??\NUL";

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, null, DeviceName, DeviceType.FILE_DEVICE_NULL,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        status = Io.CreateSymbolicLink(DosName, DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            return status;
        }

        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_READ] = Read;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_WRITE] = Write;
        driverObject.DriverUnload = d =>
        {
            Io.DeleteSymbolicLink(DosName);
            while (d.DeviceObject is { } dev) Io.DeleteDevice(dev);
        };
        device!.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS, 0);

    private static NtStatus Read(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_END_OF_FILE, 0);

    private static NtStatus Write(DeviceObject device, Irp irp) =>
        Complete(irp, NtStatus.STATUS_SUCCESS, Io.GetCurrentIrpStackLocation(irp).Parameters.Write.Length);
}
