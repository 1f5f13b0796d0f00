using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// IRP_MJ_QUERY_VOLUME_INFORMATION: the volume's label (none), serial number and creation time, its
/// size in 4 KiB clusters of 8 sectors, and what kind of file system it is ("RamFs": case-preserving,
/// case-insensitive, Unicode names of up to 255 characters). The I/O manager answers
/// FileFsDeviceInformation itself.
/// </summary>
internal static class RamFsVolumeInformation
{
    private const uint FILE_CASE_PRESERVED_NAMES = 0x2;
    private const uint FILE_UNICODE_ON_DISK = 0x4;
    private const string FileSystemName = "RamFs";
    private const int SectorSize = 512;

    public static NtStatus Query(DeviceObject device, Irp irp)
    {
        var parameters = Io.GetCurrentIrpStackLocation(irp).Parameters.QueryVolume;
        var volume = device.Extension<RamFsVolume>();
        var buffer = RamFsBuffers.Of(irp, parameters.Length);
        buffer.Clear();
        long total, free;
        lock (volume.Sync)
        {
            total = volume.Capacity / RamFsInterface.ClusterSize;
            free = (volume.Capacity - volume.Used) / RamFsInterface.ClusterSize;
        }
        switch (parameters.FsInformationClass)
        {
            case FsInformationClass.FileFsVolumeInformation when buffer.Length >= 18:
                // No label: VolumeLabelLength 0, and the structure ends where the label would start.
                BinaryPrimitives.WriteInt64LittleEndian(buffer, volume.Root.CreationTime);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], (uint)(volume.Root.CreationTime >> 16));
                return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 18);
            case FsInformationClass.FileFsSizeInformation when buffer.Length >= 24:
                BinaryPrimitives.WriteInt64LittleEndian(buffer, total);
                BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], free);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], RamFsInterface.ClusterSize / SectorSize);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], SectorSize);
                return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 24);
            case FsInformationClass.FileFsFullSizeInformation when buffer.Length >= 32:
                BinaryPrimitives.WriteInt64LittleEndian(buffer, total);
                BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], free);
                BinaryPrimitives.WriteInt64LittleEndian(buffer[16..], free);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], RamFsInterface.ClusterSize / SectorSize);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[28..], SectorSize);
                return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 32);
            case FsInformationClass.FileFsAttributeInformation when buffer.Length >= 12:
            {
                BinaryPrimitives.WriteUInt32LittleEndian(buffer, FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK);
                BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], RamFsInterface.MaxComponentLength);
                var name = MemoryMarshal.AsBytes(FileSystemName.AsSpan());
                BinaryPrimitives.WriteInt32LittleEndian(buffer[8..], name.Length);
                var room = (buffer.Length - 12) & ~1;
                name[..Math.Min(room, name.Length)].CopyTo(buffer[12..]);
                // As NTFS: what fits of the name, its whole length, and STATUS_BUFFER_OVERFLOW if it was cut.
                return room < name.Length
                    ? RamFsDriver.Complete(irp, NtStatus.STATUS_BUFFER_OVERFLOW, buffer.Length)
                    : RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 12 + name.Length);
            }
            default:
                return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        }
    }
}
