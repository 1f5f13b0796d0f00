using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// I/O completion ports, file information setting and cancellation.

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateIoCompletionRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NumberOfConcurrentThreads, uint NameBytes)
    : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtCreateIoCompletion;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenIoCompletionRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenIoCompletion;
}

/// <summary>NtSetIoCompletion: queue a packet by hand (PostQueuedCompletionStatus).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtSetIoCompletionRequest(long Port, ulong KeyContext, ulong ApcContext, int IoStatus, int Reserved, long IoStatusInformation)
    : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtSetIoCompletion;
}

/// <summary>
/// NtRemoveIoCompletion(Ex): up to Count packets. The reply carries Count <see cref="CompletionPacket"/>s,
/// then (when the status is STATUS_USER_APC) the APCs.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtRemoveIoCompletionRequest(long Port, uint Count, uint Alertable, uint HasTimeout, uint Reserved, long Timeout)
    : IRequest<RemoveIoCompletionReply>
{
    public static Syscall Number => Syscall.NtRemoveIoCompletion;
}

[StructLayout(LayoutKind.Sequential)]
public record struct RemoveIoCompletionReply(uint Count, uint ApcCount);

/// <summary>FILE_IO_COMPLETION_INFORMATION: {KeyContext, ApcContext, IoStatusBlock}.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct CompletionPacket(ulong KeyContext, ulong ApcContext, int Status, int Reserved, long Information);

[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryIoCompletionRequest(long Port) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtQueryIoCompletion;
}

/// <summary>NtSetInformationFile; followed by Length bytes of the information (FILE_COMPLETION_INFORMATION is {Port handle, Key}).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtSetInformationFileRequest(long Handle, ulong IoStatusBlock, uint FileInformationClass, uint Length) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtSetInformationFile;
}

/// <summary>NtCancelIoFile: the calling thread's I/O on the file; returns once it has completed.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtCancelIoFileRequest(long Handle) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtCancelIoFile;
}

/// <summary>NtCancelIoFileEx: the process's I/O on the file issued with IoRequestToCancel (its IOSB address), or all of it when 0.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtCancelIoFileExRequest(long Handle, ulong IoRequestToCancel) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtCancelIoFileEx;
}

/// <summary>NtCancelSynchronousIoFile: the synchronous I/O a thread is blocked in.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtCancelSynchronousIoFileRequest(long Thread, ulong IoRequestToCancel) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtCancelSynchronousIoFile;
}

/// <summary>Kinds of Notify frames (kernel → client, unasked).</summary>
public enum NotificationKind : ushort
{
    /// <summary>An overlapped request finished: apply this <see cref="IoTransferReply"/> to the call with Sequence.</summary>
    IoCompletion = 1,
}
