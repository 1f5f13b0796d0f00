using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamDisk;

/// <summary>
/// \Device\RamDisk: a disk of 512-byte sectors held in memory the driver owns. Reads and writes
/// come as direct I/O and are one copy between the disk's memory and the request's MDL, under the
/// rules of <see cref="RamDiskTransfer"/>; IOCTL_DISK_GET_LENGTH_INFO and
/// IOCTL_DISK_GET_DRIVE_GEOMETRY describe it.
/// </summary>
public sealed class RamDiskDriver : IDriver
{
    /// <summary>Loads a disk of <see cref="RamDiskInterface.DefaultSize"/>.</summary>
    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath) => Start(driverObject, RamDiskInterface.DefaultSize);

    /// <summary>
    /// The entry point of a disk of <paramref name="bytes"/>. Windows' RAM disk reads its size from
    /// its service key; KernelBridge has no registry, so the kernel chooses the entry point.
    /// </summary>
    public static DriverInitialize WithSize(long bytes) => (driverObject, _) => Start(driverObject, bytes);

    private static NtStatus Start(DriverObject driverObject, long bytes)
    {
        if (RamDiskSize.Problem(bytes) is not null) return NtStatus.STATUS_INVALID_PARAMETER;
        if (RamDiskMemory.TryAllocate(bytes) is not { } memory) return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
        var status = Io.CreateDevice(driverObject, new RamDiskExtension(memory), RamDiskInterface.DeviceName, DeviceType.FILE_DEVICE_DISK,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess)
        {
            memory.Dispose();
            return status;
        }
        status = Io.CreateSymbolicLink(RamDiskInterface.DosName, RamDiskInterface.DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            memory.Dispose();
            return status;
        }

        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Create;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_READ] = Read;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_WRITE] = Write;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = Unload;

        // Direct I/O: the request's MDL is the caller's buffer, so a transfer is a single copy.
        device!.Flags |= DeviceFlags.DO_DIRECT_IO;
        device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static void Unload(DriverObject driverObject)
    {
        Io.DeleteSymbolicLink(RamDiskInterface.DosName);
        while (driverObject.DeviceObject is { } device)
        {
            // Files may still be open and copies under way: the memory goes when the last copy ends.
            device.Extension<RamDiskExtension>().Memory.Dispose();
            Io.DeleteDevice(device);
        }
    }

    private static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Create(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS, (long)CreateInformation.FILE_OPENED);

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS, 0);

    private static NtStatus Read(DeviceObject device, Irp irp) => Transfer(device, irp, Io.GetCurrentIrpStackLocation(irp).Parameters.Read, toCaller: true);

    private static NtStatus Write(DeviceObject device, Irp irp) => Transfer(device, irp, Io.GetCurrentIrpStackLocation(irp).Parameters.Write, toCaller: false);

    private static NtStatus Transfer(DeviceObject device, Irp irp, ReadWriteParameters parameters, bool toCaller)
    {
        var (offset, length) = (parameters.ByteOffset, parameters.Length);
        // RAW answers an empty transfer itself, wherever it points.
        if (length == 0) return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        var disk = device.Extension<RamDiskExtension>();
        if (!RamDiskTransfer.LiesOnMedia(offset, length, disk.Length)) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);

        var buffer = Mm.GetSystemAddressForMdlSafe(irp.MdlAddress!).Span[..length];
        var copied = toCaller ? disk.Memory.TryCopyOut(offset, buffer) : disk.Memory.TryCopyIn(offset, buffer);
        // Unloaded under the request: the device is gone.
        if (!copied) return Complete(irp, NtStatus.STATUS_NO_SUCH_DEVICE, 0);

        // RAW's completion routine: a synchronous file's position moves on by the bytes moved.
        if (Io.GetCurrentIrpStackLocation(irp).FileObject is { } file && (file.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0)
            file.CurrentByteOffset += length;
        return Complete(irp, NtStatus.STATUS_SUCCESS, length);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var parameters = Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl;
        var disk = device.Extension<RamDiskExtension>();
        if (parameters.IoControlCode == DiskIoctl.IOCTL_DISK_GET_DRIVE_GEOMETRY.Value)
            return Answer(irp, disk.Geometry, parameters.OutputBufferLength);
        if (parameters.IoControlCode == DiskIoctl.IOCTL_DISK_GET_LENGTH_INFO.Value)
            return Answer(irp, new GET_LENGTH_INFORMATION { Length = disk.Length }, parameters.OutputBufferLength);
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }

    /// <summary>A METHOD_BUFFERED answer: all of it, or STATUS_BUFFER_TOO_SMALL and nothing (disk.sys DiskIoctlGetDriveGeometry).</summary>
    private static NtStatus Answer<T>(Irp irp, T answer, int outputLength) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        if (outputLength < size) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
        MemoryMarshal.Write(irp.SystemBuffer.Span, in answer);
        return Complete(irp, NtStatus.STATUS_SUCCESS, size);
    }
}
