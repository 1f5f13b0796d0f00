using System.Runtime.InteropServices;

namespace KernelBridge.Abi;

/// <summary>
/// The disk control codes of ntdddisk.h / winioctl.h that KernelBridge's disks answer, built the
/// way the header builds them: CTL_CODE(IOCTL_DISK_BASE, function, METHOD_BUFFERED, access).
/// </summary>
public static class DiskIoctl
{
    /// <summary>IOCTL_DISK_BASE is FILE_DEVICE_DISK.</summary>
    public const uint IOCTL_DISK_BASE = (uint)DeviceType.FILE_DEVICE_DISK;

    /// <summary>0x00070000: a <see cref="DISK_GEOMETRY"/>; any handle may ask (FILE_ANY_ACCESS).</summary>
    public static readonly CtlCode IOCTL_DISK_GET_DRIVE_GEOMETRY =
        CtlCode.Make(IOCTL_DISK_BASE, 0x0000, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>0x0007405C: a <see cref="GET_LENGTH_INFORMATION"/>; the handle needs read access.</summary>
    public static readonly CtlCode IOCTL_DISK_GET_LENGTH_INFO =
        CtlCode.Make(IOCTL_DISK_BASE, 0x0017, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_READ_ACCESS);
}

/// <summary>MEDIA_TYPE (ntdddisk.h): the values a hard disk reports; the floppy formats between are not modelled.</summary>
public enum MediaType : uint
{
    Unknown = 0x00,
    RemovableMedia = 0x0B,
    FixedMedia = 0x0C,
}

/// <summary>
/// DISK_GEOMETRY: 24 bytes. Cylinders × TracksPerCylinder × SectorsPerTrack × BytesPerSector may
/// fall short of the disk's length (the cylinder count rounds down); IOCTL_DISK_GET_LENGTH_INFO
/// gives the exact length.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct DISK_GEOMETRY
{
    public long Cylinders;
    public MediaType MediaType;
    public uint TracksPerCylinder;
    public uint SectorsPerTrack;
    public uint BytesPerSector;
}

/// <summary>GET_LENGTH_INFORMATION: the disk's (or partition's) length in bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GET_LENGTH_INFORMATION
{
    public long Length;
}
