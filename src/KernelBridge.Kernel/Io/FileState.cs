using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Io;

/// <summary>What the I/O manager keeps per file object (FileObject.IoManagerState).</summary>
internal sealed class FileState
{
    /// <summary>IRP_MJ_CREATE succeeded: the driver knows this file and must see CLEANUP and CLOSE.</summary>
    public bool Opened;

    /// <summary>The access the open granted (what NtQueryInformationFile(FileAccessInformation) reports).</summary>
    public uint GrantedAccess;

    /// <summary>The CreateOptions of the open (FileModeInformation).</summary>
    public uint Mode;

    public static FileState Of(FileObject file) => (FileState)file.IoManagerState!;
}
