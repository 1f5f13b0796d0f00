using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// I/O completion ports, file information setting and cancellation.

[StructLayout(LayoutKind.Sequential)]
[Syscall(50)]
public partial record struct NtCreateIoCompletionRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NumberOfConcurrentThreads, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes,
    [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(51)]
public partial record struct NtOpenIoCompletionRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtSetIoCompletion: queue a packet by hand (PostQueuedCompletionStatus).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(52)]
public partial record struct NtSetIoCompletionRequest(long Port, ulong KeyContext, ulong ApcContext, int IoStatus, int Reserved, long IoStatusInformation) : IRequest<EmptyReply>;

/// <summary>
/// NtRemoveIoCompletion(Ex): up to Count packets. The reply carries Count <see cref="CompletionPacket"/>s,
/// then (when the status is STATUS_USER_APC) the APCs.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(53)]
public partial record struct NtRemoveIoCompletionRequest(long Port, uint Count, uint Alertable, uint HasTimeout, uint Reserved, long Timeout) : IRequest<RemoveIoCompletionReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct RemoveIoCompletionReply(
    [Data("Packets", Element = typeof(CompletionPacket), MaxCount = RemoveIoCompletionReply.MaxPackets)] uint Count,
    [Data("Apcs", Element = typeof(ApcRecord), MaxCount = WaitReply.MaxApcs)] uint ApcCount)
{
    /// <summary>The most packets one NtRemoveIoCompletionEx takes.</summary>
    public const int MaxPackets = 1024;
}

/// <summary>FILE_IO_COMPLETION_INFORMATION: {KeyContext, ApcContext, IoStatusBlock}.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct CompletionPacket(ulong KeyContext, ulong ApcContext, int Status, int Reserved, long Information);

[StructLayout(LayoutKind.Sequential)]
[Syscall(54)]
public partial record struct NtQueryIoCompletionRequest(long Port) : IRequest<StateReply>;

/// <summary>NtSetInformationFile; followed by Length bytes of the information (FILE_COMPLETION_INFORMATION is {Port handle, Key}).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(15)]
public partial record struct NtSetInformationFileRequest(long Handle, ulong IoStatusBlock, uint FileInformationClass, [Data("Information", MaxCount = 64 * 1024)] uint Length) : IRequest<IoTransferReply>;

/// <summary>NtCancelIoFile: the calling thread's I/O on the file; returns once it has completed.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(16)]
public partial record struct NtCancelIoFileRequest(long Handle) : IRequest<IoTransferReply>;

/// <summary>NtCancelIoFileEx: the process's I/O on the file issued with IoRequestToCancel (its IOSB address), or all of it when 0.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(17)]
public partial record struct NtCancelIoFileExRequest(long Handle, ulong IoRequestToCancel) : IRequest<IoTransferReply>;

/// <summary>NtCancelSynchronousIoFile: the synchronous I/O a thread is blocked in.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(18)]
public partial record struct NtCancelSynchronousIoFileRequest(long Thread, ulong IoRequestToCancel) : IRequest<IoTransferReply>;

/// <summary>Kinds of Notify frames (kernel → client, unasked).</summary>
public enum NotificationKind : ushort
{
    /// <summary>An overlapped request finished: apply this <see cref="IoTransferReply"/> to the call with Sequence.</summary>
    IoCompletion = 1,
}
