using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>The file system calls of the Nt face.</summary>
public static unsafe partial class Ntdll
{
    /// <summary>
    /// NtQueryDirectoryFile: entries of the directory <paramref name="fileHandle"/> into
    /// <paramref name="fileInformation"/>. <paramref name="fileName"/> (null for none) is the
    /// pattern, which only the first query of a handle (or one that restarts the scan) sets.
    /// </summary>
    public static NtStatus NtQueryDirectoryFile(nint fileHandle, nint @event, nint apcRoutine, nint apcContext, IO_STATUS_BLOCK* ioStatusBlock,
        void* fileInformation, uint length, FileInformationClass fileInformationClass, bool returnSingleEntry, string? fileName, bool restartScan)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        var flags = (returnSingleEntry ? QueryDirectoryFlags.ReturnSingleEntry : 0) | (restartScan ? QueryDirectoryFlags.RestartScan : 0)
            | (fileName is not null ? QueryDirectoryFlags.HasFileName : 0);
        var request = new NtQueryDirectoryFileRequest(fileHandle, @event, (ulong)apcRoutine, (ulong)apcContext, (ulong)ioStatusBlock, (ulong)fileInformation,
            length, (uint)fileInformationClass, flags, 0);
        return Syscalls.NtQueryDirectoryFile(gate, request, new(fileName.AsSpan()), new IoTarget(ioStatusBlock, fileInformation, length));
    }
}
