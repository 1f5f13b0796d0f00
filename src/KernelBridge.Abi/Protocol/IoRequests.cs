using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// I/O manager services. Addresses (ulong) are the caller's own pointers: the kernel never
// dereferences them; it uses them as Windows would expose them (Irp->UserBuffer, the IOSB a
// completion names) and to tell the client where to write.

/// <summary>Flags on I/O requests.</summary>
[Flags]
public enum IoRequestFlags : uint
{
    None = 0,
    /// <summary>ByteOffset is present (else the file's current position is used).</summary>
    HasByteOffset = 1,
}

/// <summary>Flags on I/O replies: what the client must write into its own memory.</summary>
[Flags]
public enum IoReplyFlags : uint
{
    None = 0,
    /// <summary>Write IoStatus into the caller's IO_STATUS_BLOCK.</summary>
    IosbWritten = 1,
    /// <summary>Copy the data that follows into the caller's output buffer.</summary>
    OutputWritten = 2,
    /// <summary>The request pended on an overlapped file: its completion comes later, as a Notify frame with this call's sequence.</summary>
    CompletionFollows = 4,
}

/// <summary>NtCreateFile / NtOpenFile; followed by NameBytes of the object name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateFileRequest(
    long RootDirectory, uint DesiredAccess, uint Attributes, uint FileAttributes, uint ShareAccess,
    uint CreateDisposition, uint CreateOptions, uint NameBytes, uint Reserved) : IRequest<NtCreateFileReply>
{
    public static Syscall Number => Syscall.NtCreateFile;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateFileReply(long Handle, IoStatusWire IoStatus, IoReplyFlags Flags, uint DeviceFlags);

/// <summary>NtReadFile. Followed by Length bytes of the caller's buffer when the device reads into it directly.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtReadFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock, ulong Buffer,
    long ByteOffset, uint Length, uint Key, IoRequestFlags Flags, uint BufferDataBytes) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtReadFile;
}

/// <summary>NtWriteFile. Followed by Length bytes of data.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtWriteFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock, ulong Buffer,
    long ByteOffset, uint Length, uint Key, IoRequestFlags Flags, uint Reserved) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtWriteFile;
}

/// <summary>
/// NtDeviceIoControlFile. Followed by InputBufferLength bytes of input (when InputBuffer is not
/// null), then OutputDataBytes bytes of the caller's output buffer as it stands (sent only for the
/// direct and neither methods, where the driver sees the caller's buffer itself).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtDeviceIoControlFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock,
    ulong InputBuffer, ulong OutputBuffer, uint IoControlCode, uint InputBufferLength,
    uint OutputBufferLength, uint OutputDataBytes) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtDeviceIoControlFile;
}

/// <summary>
/// The reply of read, write, device control and query-information: the IOSB to write (if
/// IosbWritten) and DataBytes bytes to copy to the start of the caller's buffer (if OutputWritten).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct IoTransferReply(IoStatusWire IoStatus, IoReplyFlags Flags, uint DataBytes);

/// <summary>NtQueryInformationFile.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryInformationFileRequest(long Handle, ulong IoStatusBlock, ulong Buffer, uint Length, uint FileInformationClass) : IRequest<IoTransferReply>
{
    public static Syscall Number => Syscall.NtQueryInformationFile;
}

/// <summary>
/// NtLoadDriver; followed by the service name (\Registry\Machine\System\CurrentControlSet\Services\NAME)
/// and the image path. KernelBridge has no registry, so the ImagePath value Windows would read from
/// the service key travels beside the name.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtLoadDriverRequest(uint ServiceNameBytes, uint ImagePathBytes) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtLoadDriver;
}

/// <summary>NtUnloadDriver; followed by the service name.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtUnloadDriverRequest(uint ServiceNameBytes, uint Reserved) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtUnloadDriver;
}
