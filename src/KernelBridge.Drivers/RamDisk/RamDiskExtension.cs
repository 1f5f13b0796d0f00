using KernelBridge.Abi;

namespace KernelBridge.Drivers.RamDisk;

/// <summary>The RAM disk's device extension: the memory that is the disk, and what the disk says of itself.</summary>
public sealed class RamDiskExtension(RamDiskMemory memory)
{
    public RamDiskMemory Memory { get; } = memory;

    /// <summary>The media's length in bytes (IOCTL_DISK_GET_LENGTH_INFO).</summary>
    public long Length => Memory.Length;

    /// <summary>IOCTL_DISK_GET_DRIVE_GEOMETRY: whole cylinders only, as disk.sys counts them (ClassReadDriveCapacity rounds down).</summary>
    public DISK_GEOMETRY Geometry => new()
    {
        Cylinders = Length / (RamDiskInterface.SectorSize * RamDiskInterface.SectorsPerTrack * RamDiskInterface.TracksPerCylinder),
        MediaType = MediaType.FixedMedia,
        TracksPerCylinder = RamDiskInterface.TracksPerCylinder,
        SectorsPerTrack = RamDiskInterface.SectorsPerTrack,
        BytesPerSector = RamDiskInterface.SectorSize,
    };
}
