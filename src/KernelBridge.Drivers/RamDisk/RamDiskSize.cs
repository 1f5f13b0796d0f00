using System.Globalization;

namespace KernelBridge.Drivers.RamDisk;

/// <summary>The sizes a RAM disk may have: a whole number of sectors, at least one.</summary>
public static class RamDiskSize
{
    /// <summary>Null if <paramref name="bytes"/> can be a disk's size, else why not (one sentence).</summary>
    public static string? Problem(long bytes) =>
        bytes > 0 && bytes % RamDiskInterface.SectorSize == 0
            ? null
            : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes is not a whole number of {RamDiskInterface.SectorSize}-byte sectors, from one up";
}
