using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Io;

/// <summary>FILE_SKIP_* completion notification modes (SetFileCompletionNotificationModes).</summary>
[Flags]
internal enum CompletionModes : uint
{
    None = 0,
    FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 1,
    FILE_SKIP_SET_EVENT_ON_HANDLE = 2,
    FILE_SKIP_SET_USER_EVENT_ON_FAST_IO = 4,
}

/// <summary>What the I/O manager keeps per file object (FileObject.IoManagerState).</summary>
internal sealed class FileState
{
    /// <summary>IRP_MJ_CREATE succeeded: the driver knows this file and must see CLEANUP and CLOSE.</summary>
    public bool Opened;

    /// <summary>The access the open granted (what NtQueryInformationFile(FileAccessInformation) reports).</summary>
    public uint GrantedAccess;

    /// <summary>The CreateOptions of the open (FileModeInformation).</summary>
    public uint Mode;

    /// <summary>The completion port the file is associated with (referenced), and its key.</summary>
    public IoCompletionObject? Port;
    public ulong Key;

    public CompletionModes Modes;

    public static FileState Of(FileObject file) => (FileState)file.IoManagerState!;
}
