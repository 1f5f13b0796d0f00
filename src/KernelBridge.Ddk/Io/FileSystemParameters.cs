using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>Parameters.SetFile of IRP_MJ_SET_INFORMATION: the system buffer holds Length bytes of the class's structure.</summary>
public struct SetFileParameters
{
    public int Length;
    public FileInformationClass FileInformationClass;
    /// <summary>FileRenameInformation: replace an existing target (the structure's ReplaceIfExists, as the I/O manager copies it).</summary>
    public bool ReplaceIfExists;
}

/// <summary>
/// Parameters.QueryDirectory of IRP_MJ_DIRECTORY_CONTROL / IRP_MN_QUERY_DIRECTORY. The stack
/// location's Flags carry SL_RESTART_SCAN, SL_RETURN_SINGLE_ENTRY and SL_INDEX_SPECIFIED.
/// </summary>
public struct QueryDirectoryParameters
{
    public int Length;
    /// <summary>The caller's FileName pattern, or null when it gave none.</summary>
    public string? FileName;
    public FileInformationClass FileInformationClass;
    public uint FileIndex;
}
