namespace KernelBridge.Drivers.RamFs;

/// <summary>The RAM file system's public interface: its names and its default size.</summary>
public static class RamFsInterface
{
    public const string ServiceName = "RamFs";
    public const string DeviceName = @"\Device\RamFs";
    public const string DosName = @"\??\RamFs";
    public const string Win32Name = @"\\.\RamFs";

    /// <summary>What a kernel's RAM file system holds unless told otherwise: file data plus <see cref="EntryCost"/> per file or directory.</summary>
    public const long DefaultCapacity = 64L << 20;

    /// <summary>What each file or directory costs of the capacity besides its data (so that empty files cannot exhaust the kernel either).</summary>
    public const long EntryCost = 512;

    /// <summary>The longest name of one file or directory, in characters (NTFS's 255).</summary>
    public const int MaxComponentLength = 255;

    /// <summary>The cluster size reported as AllocationSize granularity.</summary>
    public const int ClusterSize = 4096;
}
