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
    /// <summary>The read or write buffer lies in one of the caller's views: it does not travel; the kernel works in the section itself.</summary>
    BufferInView = 2,
    /// <summary>A device control's input buffer lies in one of the caller's views (it does not travel).</summary>
    InputInView = 4,
    /// <summary>A device control's output buffer lies in one of the caller's views (it does not travel, in either direction).</summary>
    OutputInView = 8,
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
[Syscall(2)]
public partial record struct NtCreateFileRequest(
    long RootDirectory, uint DesiredAccess, uint Attributes, uint FileAttributes, uint ShareAccess,
    uint CreateDisposition, uint CreateOptions, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<NtCreateFileReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct NtCreateFileReply(long Handle, IoStatusWire IoStatus, IoReplyFlags Flags, uint DeviceFlags);

/// <summary>NtReadFile. Followed by the caller's buffer as it stands when the device reads into it directly (see <see cref="BufferToSend"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(3)]
public partial record struct NtReadFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock, ulong Buffer,
    long ByteOffset, uint Length, uint Key, IoRequestFlags Flags, [Data("Buffer")] uint BufferDataBytes) : IRequest<IoTransferReply>;

/// <summary>NtWriteFile. Followed by Length bytes of data, unless the buffer lies in one of the caller's views (<see cref="IoRequestFlags.BufferInView"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(4)]
public partial record struct NtWriteFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock, ulong Buffer,
    long ByteOffset, uint Length, uint Key, IoRequestFlags Flags, [Data("Buffer")] uint BufferDataBytes) : IRequest<IoTransferReply>;

/// <summary>
/// NtDeviceIoControlFile. Followed by the input (InputDataBytes: InputBufferLength bytes when
/// InputBuffer is not null), then the caller's output buffer as it stands (OutputDataBytes: only
/// for the direct and neither methods, where the driver sees the caller's buffer itself).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(5)]
public partial record struct NtDeviceIoControlFileRequest(
    long Handle, long Event, ulong ApcRoutine, ulong ApcContext, ulong IoStatusBlock,
    ulong InputBuffer, ulong OutputBuffer, uint IoControlCode, uint InputBufferLength,
    uint OutputBufferLength, [Data("Input")] uint InputDataBytes, [Data("Output")] uint OutputDataBytes, IoRequestFlags Flags) : IRequest<IoTransferReply>;

/// <summary>
/// The reply of read, write, device control and query-information: the IOSB to write (if
/// IosbWritten) and DataBytes bytes to copy to the start of the caller's buffer (if OutputWritten).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct IoTransferReply(IoStatusWire IoStatus, IoReplyFlags Flags, [Data("Output")] uint DataBytes);

/// <summary>NtQueryInformationFile.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(9)]
public partial record struct NtQueryInformationFileRequest(long Handle, ulong IoStatusBlock, ulong Buffer, uint Length, uint FileInformationClass) : IRequest<IoTransferReply>;

/// <summary>
/// NtQueryVolumeInformationFile. Followed by the caller's buffer as it stands only for
/// FileFsDriverPathInformation, a question the I/O manager reads from that buffer (see <see cref="InputToSend"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(56)]
public partial record struct NtQueryVolumeInformationFileRequest(
    long Handle, ulong IoStatusBlock, ulong Buffer, uint Length, uint FsInformationClass, [Data("Input")] uint InputDataBytes, uint Reserved)
    : IRequest<IoTransferReply>;

/// <summary>NtSetVolumeInformationFile; followed by Length bytes of the information.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(57)]
public partial record struct NtSetVolumeInformationFileRequest(
    long Handle, ulong IoStatusBlock, uint FsInformationClass, [Data("Information")] uint Length) : IRequest<IoTransferReply>;

/// <summary>
/// NtLoadDriver; followed by the service name (\Registry\Machine\System\CurrentControlSet\Services\NAME)
/// and the image path. KernelBridge has no registry, so the ImagePath value Windows would read from
/// the service key travels beside the name.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(10)]
public partial record struct NtLoadDriverRequest(
    [Data("ServiceName", Kind = DataKind.Unicode)] uint ServiceNameBytes, [Data("ImagePath", Kind = DataKind.Unicode)] uint ImagePathBytes)
    : IRequest<NtLoadDriverReply>;

/// <summary>Followed by the kernel's explanation (UTF-8) when loading failed.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtLoadDriverReply([Data("Message", Kind = DataKind.Utf8)] uint MessageBytes);

/// <summary>NtUnloadDriver; followed by the service name.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(11)]
public partial record struct NtUnloadDriverRequest([Data("ServiceName", Kind = DataKind.Unicode)] uint ServiceNameBytes, uint Reserved) : IRequest<EmptyReply>;

public partial record struct NtReadFileRequest
{
    /// <summary>
    /// How much of the caller's buffer travels with a read: none for a buffered device (the driver
    /// fills a system buffer), all of it otherwise (the driver works in the caller's own pages).
    /// </summary>
    public static uint BufferToSend(uint deviceFlags, ulong buffer, uint length) =>
        (deviceFlags & DeviceFlagBufferedIo) != 0 || buffer == 0 ? 0 : length;

    /// <summary>Whether the request carries a buffer the rule allows: none, or all of it (none when it lies in a view).</summary>
    public readonly bool BufferFollowsRule => BufferDataBytes == 0 || (BufferDataBytes == Length && (Flags & IoRequestFlags.BufferInView) == 0);

    /// <summary>DO_BUFFERED_IO, as the client learns it from NtCreateFile's reply.</summary>
    public const uint DeviceFlagBufferedIo = 0x4;
}

public partial record struct NtWriteFileRequest
{
    /// <summary>Whether the request carries the data the rule gives: all of it, or none when it lies in a view.</summary>
    public readonly bool BufferFollowsRule => BufferDataBytes == ((Flags & IoRequestFlags.BufferInView) != 0 ? 0 : Length);
}

public partial record struct NtDeviceIoControlFileRequest
{
    /// <summary>The input that travels: all of it, unless the input buffer is null (an empty one).</summary>
    public static uint InputToSend(ulong inputBuffer, uint inputBufferLength) => inputBuffer != 0 ? inputBufferLength : 0;

    /// <summary>
    /// The output buffer travels as it stands only for the direct and neither methods, whose
    /// driver sees the caller's buffer itself; a buffered IOCTL's output comes from the system buffer.
    /// </summary>
    public static uint OutputToSend(uint ioControlCode, ulong outputBuffer, uint outputBufferLength) =>
        new CtlCode(ioControlCode).Method != TransferMethod.METHOD_BUFFERED && outputBuffer != 0 ? outputBufferLength : 0;

    /// <summary>Whether the data lengths are the ones the two rules give (the kernel's check of what came); a buffer in a view never travels.</summary>
    public readonly bool DataFollowsRules =>
        InputDataBytes == ((Flags & IoRequestFlags.InputInView) != 0 ? 0 : InputToSend(InputBuffer, InputBufferLength))
        && OutputDataBytes == ((Flags & IoRequestFlags.OutputInView) != 0 ? 0 : OutputToSend(IoControlCode, OutputBuffer, OutputBufferLength))
        && (Flags & ~(IoRequestFlags.InputInView | IoRequestFlags.OutputInView)) == 0;
}

public partial record struct NtQueryVolumeInformationFileRequest
{
    /// <summary>FILE_FS_DRIVER_PATH_INFORMATION: DriverInPath, DriverNameLength, then the name (at most a UNICODE_STRING's worth).</summary>
    public const int DriverPathInputLimit = 8 + ushort.MaxValue;

    /// <summary>
    /// How much of the caller's buffer travels: for FileFsDriverPathInformation the buffer holds the
    /// question (the driver's name), so it travels, up to what the question can hold; for every
    /// other class the buffer is only written, so nothing does.
    /// </summary>
    public static uint InputToSend(uint fsInformationClass, ulong buffer, uint length) =>
        fsInformationClass == (uint)Abi.FsInformationClass.FileFsDriverPathInformation && buffer != 0 ? Math.Min(length, DriverPathInputLimit) : 0;

    /// <summary>Whether the request carries the input the rule gives (the kernel's check of what came).</summary>
    public readonly bool InputFollowsRule => InputDataBytes == InputToSend(FsInformationClass, Buffer, Length);
}
