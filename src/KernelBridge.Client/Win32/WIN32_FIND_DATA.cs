namespace KernelBridge.Client.Win32;

/// <summary>WIN32_FIND_DATAW, as FindFirstFile and FindNextFile fill it: times are FILETIMEs (100 ns since 1601, UTC).</summary>
public sealed class WIN32_FIND_DATA
{
    public uint FileAttributes { get; set; }
    public long CreationTime { get; set; }
    public long LastAccessTime { get; set; }
    public long LastWriteTime { get; set; }
    public uint FileSizeHigh { get; set; }
    public uint FileSizeLow { get; set; }
    public string FileName { get; set; } = "";
    /// <summary>The 8.3 name, empty when the file system keeps none.</summary>
    public string AlternateFileName { get; set; } = "";

    public long FileSize => ((long)FileSizeHigh << 32) | FileSizeLow;

    public override string ToString() => $"{FileName} (0x{FileAttributes:X}, {FileSize} bytes)";
}
