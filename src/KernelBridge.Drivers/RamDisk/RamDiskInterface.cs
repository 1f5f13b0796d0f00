namespace KernelBridge.Drivers.RamDisk;

/// <summary>The RAM disk's public interface (what a driver's public.h would hold): its names and the shape of its disk.</summary>
public static class RamDiskInterface
{
    public const string ServiceName = "RamDisk";
    public const string DeviceName = @"\Device\RamDisk";
    public const string DosName = @"\??\RamDisk";
    public const string Win32Name = @"\\.\RamDisk";

    /// <summary>Bytes per sector: every read and write starts on a sector and moves whole sectors.</summary>
    public const int SectorSize = 512;

    /// <summary>The size a kernel gives the disk unless told otherwise (`kbridge kernel --ramdisk-size`).</summary>
    public const long DefaultSize = 64L << 20;

    /// <summary>
    /// A RAM disk has no tracks; these are the Windows-driver-samples RAM disk's made-up values
    /// (storage/ramdisk RamDiskFormatDisk), which make a cylinder 32 KiB.
    /// </summary>
    public const uint SectorsPerTrack = 32;

    public const uint TracksPerCylinder = 2;
}
