using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// \Device\RamFs: a file system held in memory. Files and directories live in a
/// <see cref="RamFsVolume"/>; every open's FileObject.FsContext is the file's FCB
/// (<see cref="RamFsFcb"/>, one per stream) and FsContext2 the open's CCB (<see cref="RamFsCcb"/>).
/// The device is DO_BUFFERED_IO, but every routine takes its buffer from whichever of MDL, system
/// buffer or user buffer the IRP carries, and its offset from the stack location, so an IRP built
/// by another kernel component (a filter) works as well as the I/O manager's.
/// </summary>
public sealed class RamFsDriver : IDriver
{
    /// <summary>Loads a volume of <see cref="RamFsInterface.DefaultCapacity"/>.</summary>
    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath) => Start(driverObject, RamFsInterface.DefaultCapacity);

    /// <summary>The entry point of a volume of <paramref name="capacity"/> bytes.</summary>
    public static DriverInitialize WithCapacity(long capacity) => (driverObject, _) => Start(driverObject, capacity);

    private static NtStatus Start(DriverObject driverObject, long capacity)
    {
        if (capacity <= 0) return NtStatus.STATUS_INVALID_PARAMETER;
        var status = Io.CreateDevice(driverObject, new RamFsVolume(capacity), RamFsInterface.DeviceName, DeviceType.FILE_DEVICE_DISK_FILE_SYSTEM,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        status = Io.CreateSymbolicLink(RamFsInterface.DosName, RamFsInterface.DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            return status;
        }

        var functions = driverObject.MajorFunction;
        functions[(int)IrpMajorFunction.IRP_MJ_CREATE] = Create;
        functions[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Cleanup;
        functions[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Close;
        functions[(int)IrpMajorFunction.IRP_MJ_READ] = RamFsReadWrite.Read;
        functions[(int)IrpMajorFunction.IRP_MJ_WRITE] = RamFsReadWrite.Write;
        functions[(int)IrpMajorFunction.IRP_MJ_QUERY_INFORMATION] = RamFsInformation.Query;
        functions[(int)IrpMajorFunction.IRP_MJ_SET_INFORMATION] = RamFsInformation.Set;
        functions[(int)IrpMajorFunction.IRP_MJ_DIRECTORY_CONTROL] = RamFsDirectory.Control;
        functions[(int)IrpMajorFunction.IRP_MJ_QUERY_VOLUME_INFORMATION] = RamFsVolumeInformation.Query;
        driverObject.DriverUnload = Unload;

        device!.Flags |= DeviceFlags.DO_BUFFERED_IO;
        device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static void Unload(DriverObject driverObject)
    {
        Io.DeleteSymbolicLink(RamFsInterface.DosName);
        while (driverObject.DeviceObject is { } device) Io.DeleteDevice(device);
    }

    internal static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Create(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var status = RamFsCreate.Open(device.Extension<RamFsVolume>(), stack.FileObject!, stack.Parameters.Create, out var information);
        return Complete(irp, status, information);
    }

    /// <summary>
    /// IRP_MJ_CLEANUP, the open's last handle gone: its share access is taken out, a delete-on-close
    /// open makes the file delete-pending, and the last handle of a delete-pending file deletes it
    /// (a directory that is not empty by then stays, as NTFS leaves it).
    /// </summary>
    private static NtStatus Cleanup(DeviceObject device, Irp irp)
    {
        var file = Io.GetCurrentIrpStackLocation(irp).FileObject!;
        if (file.FsContext is RamFsFcb fcb && file.FsContext2 is RamFsCcb ccb)
        {
            var volume = fcb.Volume;
            lock (volume.Sync)
            {
                if (!ccb.CleanedUp)
                {
                    ccb.CleanedUp = true;
                    Io.RemoveShareAccess(file, fcb.ShareAccess);
                    fcb.HandleCount--;
                    if (ccb.DeleteOnClose) fcb.DeletePending = true;
                    if (fcb.HandleCount == 0 && fcb.DeletePending)
                    {
                        if (fcb.IsDirectory && fcb.Children!.Count != 0) fcb.DeletePending = false;
                        else
                        {
                            volume.Unlink(fcb);
                            volume.Free(fcb);
                        }
                    }
                    else if (fcb.HandleCount == 0 && fcb.Unlinked) volume.Free(fcb);
                }
            }
        }
        return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
    }

    /// <summary>IRP_MJ_CLOSE, the file object's last reference gone: the open no longer counts on its FCB.</summary>
    private static NtStatus Close(DeviceObject device, Irp irp)
    {
        var file = Io.GetCurrentIrpStackLocation(irp).FileObject!;
        if (file.FsContext is RamFsFcb fcb)
        {
            lock (fcb.Volume.Sync) fcb.ReferenceCount--;
        }
        return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
    }
}
