using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// The FCB: one file or directory of the volume, and the FileObject.FsContext of every open of it
/// (so reference identity is identity of the stream, as filter managers expect). Everything in it
/// is guarded by the volume's lock (<see cref="RamFsVolume.Sync"/>).
/// </summary>
public sealed class RamFsFcb
{
    private static readonly byte[] NoData = [];

    internal RamFsFcb(RamFsVolume volume, RamFsFcb? parent, string name, bool isDirectory, bool isVolume, long fileId, FileAttributeFlags attributes)
    {
        Volume = volume;
        Parent = parent;
        Name = name;
        IsDirectory = isDirectory;
        IsVolume = isVolume;
        FileId = fileId;
        Attributes = attributes;
        Children = isDirectory ? new Dictionary<string, RamFsFcb>(StringComparer.OrdinalIgnoreCase) : null;
        CreationTime = LastAccessTime = LastWriteTime = ChangeTime = RamFsVolume.Now();
    }

    public RamFsVolume Volume { get; }

    /// <summary>The directory holding it; null for the root and the volume.</summary>
    public RamFsFcb? Parent { get; internal set; }

    /// <summary>Its name as created (case preserved); "" for the root.</summary>
    public string Name { get; internal set; }

    public bool IsDirectory { get; }

    /// <summary>The open of the volume itself (the device's name with nothing after it).</summary>
    public bool IsVolume { get; }

    public bool IsRoot => IsDirectory && Parent is null;

    /// <summary>FileInternalInformation's IndexNumber: unique for the volume's life.</summary>
    public long FileId { get; }

    internal readonly Dictionary<string, RamFsFcb>? Children;

    internal byte[] Data = NoData;

    /// <summary>End of file, in bytes.</summary>
    public long Length { get; internal set; }

    internal FileAttributeFlags Attributes;
    internal long CreationTime;
    internal long LastAccessTime;
    internal long LastWriteTime;
    internal long ChangeTime;

    /// <summary>The share access of the opens that have not yet been cleaned up.</summary>
    internal readonly SHARE_ACCESS ShareAccess = new();

    /// <summary>Opens whose IRP_MJ_CLEANUP has not come yet (handles, as the file system counts them).</summary>
    internal int HandleCount;

    /// <summary>Opens whose IRP_MJ_CLOSE has not come yet.</summary>
    internal int ReferenceCount;

    /// <summary>The file goes when its last handle is cleaned up; new opens get STATUS_DELETE_PENDING.</summary>
    internal bool DeletePending;

    /// <summary>Taken out of its directory (deleted): nothing can open it again.</summary>
    internal bool Unlinked;

    /// <summary>Unlinked and without handles: its space is given back.</summary>
    internal bool Freed;

    internal FileAttributeFlags ReportedAttributes =>
        IsDirectory ? Attributes | FileAttributeFlags.FILE_ATTRIBUTE_DIRECTORY
        : Attributes == FileAttributeFlags.None ? FileAttributeFlags.FILE_ATTRIBUTE_NORMAL : Attributes;

    internal long AllocationSize => (Length + RamFsInterface.ClusterSize - 1) / RamFsInterface.ClusterSize * RamFsInterface.ClusterSize;

    /// <summary>The path from the root: "\" for the root, "\dir\a.txt" below it.</summary>
    public string FullPath
    {
        get
        {
            if (Parent is null) return @"\";
            var parts = new Stack<string>();
            for (var node = this; node.Parent is not null; node = node.Parent) parts.Push(node.Name);
            return @"\" + string.Join('\\', parts);
        }
    }

    public override string ToString() => (IsDirectory ? "directory " : "file ") + FullPath;
}
