using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// File system services (syscall numbers 70-79).

/// <summary>NtQueryDirectoryFile's BOOLEAN arguments, and whether a FileName pattern follows.</summary>
[Flags]
public enum QueryDirectoryFlags : uint
{
    None = 0,
    ReturnSingleEntry = 1,
    RestartScan = 2,
    /// <summary>The caller passed a FileName (it follows the request; it may be empty).</summary>
    HasFileName = 4,
}

/// <summary>
/// NtQueryDirectoryFile: IRP_MJ_DIRECTORY_CONTROL / IRP_MN_QUERY_DIRECTORY on a directory handle,
/// Length bytes of entries back into Buffer. Followed by the FileName pattern (UTF-16), if any.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(71)]
public partial record struct NtQueryDirectoryFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock, ulong Buffer, uint Length, uint FileInformationClass,
    QueryDirectoryFlags Flags, [Data("FileName", Kind = DataKind.Unicode)] uint FileNameBytes) : IRequest<IoTransferReply>;
