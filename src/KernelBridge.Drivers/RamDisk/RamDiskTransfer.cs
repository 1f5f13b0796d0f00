namespace KernelBridge.Drivers.RamDisk;

/// <summary>
/// Which reads and writes reach the media, by the rules a raw disk handle meets on Windows. It
/// goes through RAW, the file system Windows mounts on a disk it does not recognise, which
/// completes a zero-length transfer with success before the disk sees it (WRK raw/ReadWrit.c).
/// The disk then refuses, with STATUS_INVALID_PARAMETER, a negative offset, an offset or a length
/// that is not a whole number of sectors, and any range that does not lie wholly on the media:
/// at or past its end, or across it (Windows-driver-samples storage/class/disk
/// DiskReadWriteVerification; storage/ramdisk RamDiskCheckParameters). There is no partial
/// transfer and no end of file.
/// </summary>
internal static class RamDiskTransfer
{
    public static bool LiesOnMedia(long offset, int length, long mediaLength) =>
        offset >= 0
        && length > 0
        && offset % RamDiskInterface.SectorSize == 0
        && length % RamDiskInterface.SectorSize == 0
        && length <= mediaLength
        && offset <= mediaLength - length;
}
