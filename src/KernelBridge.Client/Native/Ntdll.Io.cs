using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

public static unsafe partial class Ntdll
{
    /// <summary>NtCreateFile. The handle and IOSB are written only on success.</summary>
    public static NtStatus NtCreateFile(nint* fileHandle, uint desiredAccess, in ObjectAttributes objectAttributes,
        IO_STATUS_BLOCK* ioStatusBlock, uint fileAttributes, ShareAccess shareAccess, CreateDisposition createDisposition,
        CreateOptions createOptions) =>
        NtCreateFile(null, fileHandle, desiredAccess, objectAttributes, ioStatusBlock, fileAttributes, shareAccess, createDisposition, createOptions);

    internal static NtStatus NtCreateFile(GateClient? gate, nint* fileHandle, uint desiredAccess, in ObjectAttributes objectAttributes,
        IO_STATUS_BLOCK* ioStatusBlock, uint fileAttributes, ShareAccess shareAccess, CreateDisposition createDisposition,
        CreateOptions createOptions)
    {
        if (fileHandle is null || ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtCreateFile(gate,
            new NtCreateFileRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, fileAttributes,
                (uint)shareAccess, (uint)createDisposition, (uint)createOptions, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        if ((reply.Flags & IoReplyFlags.IosbWritten) != 0) WriteIosb(ioStatusBlock, reply.IoStatus);
        if (status.IsSuccess)
        {
            *fileHandle = (nint)reply.Handle;
            var synchronous = (createOptions & (CreateOptions.FILE_SYNCHRONOUS_IO_ALERT | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT)) != 0;
            gate.Handles.RememberDeviceFlags((nint)reply.Handle, reply.DeviceFlags | (synchronous ? HandleFacts.SynchronousFile : 0));
        }
        return status;
    }

    /// <summary>NtOpenFile: NtCreateFile with FILE_OPEN.</summary>
    public static NtStatus NtOpenFile(nint* fileHandle, uint desiredAccess, in ObjectAttributes objectAttributes,
        IO_STATUS_BLOCK* ioStatusBlock, ShareAccess shareAccess, CreateOptions openOptions) =>
        NtCreateFile(fileHandle, desiredAccess, objectAttributes, ioStatusBlock, 0, shareAccess, CreateDisposition.FILE_OPEN, openOptions);

    /// <summary>NtReadFile into <paramref name="buffer"/>.</summary>
    public static NtStatus NtReadFile(nint fileHandle, nint @event, nint apcRoutine, nint apcContext, IO_STATUS_BLOCK* ioStatusBlock,
        void* buffer, uint length, long* byteOffset, uint* key) =>
        NtReadFile(null, fileHandle, @event, apcRoutine, apcContext, ioStatusBlock, buffer, length, byteOffset, key, null);

    /// <summary>
    /// NtReadFile; with a hook, the request is only submitted (STATUS_PENDING) and its end — at once or
    /// after it pended — reaches the hook, on the thread that reads the gate's results.
    /// </summary>
    internal static NtStatus NtReadFile(GateClient? gate, nint fileHandle, nint @event, nint apcRoutine, nint apcContext,
        IO_STATUS_BLOCK* ioStatusBlock, void* buffer, uint length, long* byteOffset, uint* key, Action<NtStatus>? completed)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        // A device that is not buffered reads into the caller's own pages: the kernel needs them as they are.
        // A buffer in one of our views does not travel at all: the kernel reads into the section itself.
        var flags = gate.Handles.TryGetDeviceFlags(fileHandle, out var known) ? known : 0;
        var inView = gate.Connection.Views?.CanLock(buffer, length) == true;
        using var bounce = inView || completed is not null ? null : Memory.IoBufferPool.ForBounce(gate, flags, @event, apcRoutine, apcContext, buffer, length);
        var into = bounce is null ? buffer : bounce.Pointer;
        inView |= bounce is not null;
        var current = new ReadOnlySpan<byte>(buffer, inView ? 0 : (int)NtReadFileRequest.BufferToSend(flags, (ulong)buffer, length));
        var request = new NtReadFileRequest(fileHandle, @event, (ulong)apcRoutine, (ulong)apcContext, (ulong)ioStatusBlock, (ulong)into,
            byteOffset is null ? 0 : *byteOffset, length, key is null ? 0 : *key,
            (byteOffset is null ? IoRequestFlags.None : IoRequestFlags.HasByteOffset) | (inView ? IoRequestFlags.BufferInView : 0), 0);
        var target = new IoTarget(ioStatusBlock, into, length, completed);
        if (completed is null)
        {
            status = Syscalls.NtReadFile(gate, request, new(current), target);
            // The device wrote the shared buffer in place; the caller's gets the bytes it reports, in one copy.
            if (bounce is not null && !status.IsError)
                new ReadOnlySpan<byte>(bounce.Pointer, (int)Math.Min((ulong)ioStatusBlock->Information, length)).CopyTo(new Span<byte>(buffer, (int)length));
            return status;
        }
        // Awaited from .NET: submit without waiting; the end, whichever it is, reaches the hook.
        Syscalls.SubmitNtReadFile(gate, request, new(current), target);
        return NtStatus.STATUS_PENDING;
    }

    /// <summary>NtWriteFile from <paramref name="buffer"/>.</summary>
    public static NtStatus NtWriteFile(nint fileHandle, nint @event, nint apcRoutine, nint apcContext, IO_STATUS_BLOCK* ioStatusBlock,
        void* buffer, uint length, long* byteOffset, uint* key) =>
        NtWriteFile(null, fileHandle, @event, apcRoutine, apcContext, ioStatusBlock, buffer, length, byteOffset, key, null);

    internal static NtStatus NtWriteFile(GateClient? gate, nint fileHandle, nint @event, nint apcRoutine, nint apcContext,
        IO_STATUS_BLOCK* ioStatusBlock, void* buffer, uint length, long* byteOffset, uint* key, Action<NtStatus>? completed)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (buffer is null && length != 0) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        // Length bytes follow, unless the buffer lies in one of our views (the kernel reads the section itself);
        // a large synchronous write from ordinary memory is copied once into a shared buffer instead.
        var inView = gate.Connection.Views?.CanLock(buffer, length) == true;
        var flags = gate.Handles.TryGetDeviceFlags(fileHandle, out var known) ? known : 0;
        using var bounce = inView || completed is not null ? null : Memory.IoBufferPool.ForBounce(gate, flags, @event, apcRoutine, apcContext, buffer, length);
        if (bounce is not null)
        {
            new ReadOnlySpan<byte>(buffer, (int)length).CopyTo(bounce.Span);
            buffer = bounce.Pointer;
            inView = true;
        }
        var request = new NtWriteFileRequest(fileHandle, @event, (ulong)apcRoutine, (ulong)apcContext, (ulong)ioStatusBlock, (ulong)buffer,
            byteOffset is null ? 0 : *byteOffset, length, key is null ? 0 : *key,
            (byteOffset is null ? IoRequestFlags.None : IoRequestFlags.HasByteOffset) | (inView ? IoRequestFlags.BufferInView : 0), 0);
        var data = new ReadOnlySpan<byte>(buffer, inView ? 0 : (int)length);
        var target = new IoTarget(ioStatusBlock, null, 0, completed);
        if (completed is null) return Syscalls.NtWriteFile(gate, request, new(data), target);
        // Awaited from .NET: submit without waiting; the end, whichever it is, reaches the hook.
        Syscalls.SubmitNtWriteFile(gate, request, new(data), target);
        return NtStatus.STATUS_PENDING;
    }

    /// <summary>
    /// NtDeviceIoControlFile. The transfer method in the code decides what the driver sees; the
    /// output buffer and IOSB are written as Windows writes them (see docs/protocol.md).
    /// </summary>
    public static NtStatus NtDeviceIoControlFile(nint fileHandle, nint @event, nint apcRoutine, nint apcContext,
        IO_STATUS_BLOCK* ioStatusBlock, uint ioControlCode, void* inputBuffer, uint inputBufferLength,
        void* outputBuffer, uint outputBufferLength) =>
        NtDeviceIoControlFile(null, fileHandle, @event, apcRoutine, apcContext, ioStatusBlock, ioControlCode, inputBuffer, inputBufferLength,
            outputBuffer, outputBufferLength, null);

    internal static NtStatus NtDeviceIoControlFile(GateClient? gate, nint fileHandle, nint @event, nint apcRoutine, nint apcContext,
        IO_STATUS_BLOCK* ioStatusBlock, uint ioControlCode, void* inputBuffer, uint inputBufferLength,
        void* outputBuffer, uint outputBufferLength, Action<NtStatus>? completed)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        // The input travels unless its buffer is null; the output buffer as it stands only for direct and neither methods.
        // A buffer in one of our views travels neither way: the kernel works in the section itself.
        var views = gate.Connection.Views;
        var inputInView = views?.CanLock(inputBuffer, inputBufferLength) == true;
        var outputInView = views?.CanLock(outputBuffer, outputBufferLength) == true;
        var input = new ReadOnlySpan<byte>(inputBuffer,
            inputInView ? 0 : (int)NtDeviceIoControlFileRequest.InputToSend((ulong)inputBuffer, inputBufferLength));
        var current = new ReadOnlySpan<byte>(outputBuffer,
            outputInView ? 0 : (int)NtDeviceIoControlFileRequest.OutputToSend(ioControlCode, (ulong)outputBuffer, outputBufferLength));
        var request = new NtDeviceIoControlFileRequest(fileHandle, @event, (ulong)apcRoutine, (ulong)apcContext, (ulong)ioStatusBlock,
            (ulong)inputBuffer, (ulong)outputBuffer, ioControlCode, inputBufferLength, outputBufferLength, 0, 0,
            (inputInView ? IoRequestFlags.InputInView : 0) | (outputInView ? IoRequestFlags.OutputInView : 0));
        var target = new IoTarget(ioStatusBlock, outputBuffer, outputBufferLength, completed);
        if (completed is null) return Syscalls.NtDeviceIoControlFile(gate, request, new(input, current), target);
        // Awaited from .NET: submit without waiting; the end, whichever it is, reaches the hook.
        Syscalls.SubmitNtDeviceIoControlFile(gate, request, new(input, current), target);
        return NtStatus.STATUS_PENDING;
    }

    /// <summary>NtQueryInformationFile.</summary>
    public static NtStatus NtQueryInformationFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock, void* fileInformation, uint length,
        FileInformationClass fileInformationClass)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return Syscalls.NtQueryInformationFile(gate,
            new NtQueryInformationFileRequest(fileHandle, (ulong)ioStatusBlock, (ulong)fileInformation, length, (uint)fileInformationClass),
            new IoTarget(ioStatusBlock, fileInformation, length));
    }

    /// <summary>
    /// NtQueryVolumeInformationFile. For FileFsDriverPathInformation the buffer holds the question
    /// (the driver's name), so it travels with the request.
    /// </summary>
    public static NtStatus NtQueryVolumeInformationFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock, void* fsInformation, uint length,
        FsInformationClass fsInformationClass)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        var input = NtQueryVolumeInformationFileRequest.InputToSend((uint)fsInformationClass, (ulong)fsInformation, length);
        return Syscalls.NtQueryVolumeInformationFile(gate,
            new NtQueryVolumeInformationFileRequest(fileHandle, (ulong)ioStatusBlock, (ulong)fsInformation, length, (uint)fsInformationClass, 0, 0),
            new(new ReadOnlySpan<byte>(fsInformation, (int)input)), new IoTarget(ioStatusBlock, fsInformation, length));
    }

    /// <summary>NtSetVolumeInformationFile: the information travels with the request (a system buffer larger than a transfer cannot be had).</summary>
    public static NtStatus NtSetVolumeInformationFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock, void* fsInformation, uint length,
        FsInformationClass fsInformationClass)
    {
        if (ioStatusBlock is null || (fsInformation is null && length != 0)) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (length > WireProtocol.MaxTransferLength) return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return Syscalls.NtSetVolumeInformationFile(gate, new NtSetVolumeInformationFileRequest(fileHandle, (ulong)ioStatusBlock, (uint)fsInformationClass, 0),
            new(new ReadOnlySpan<byte>(fsInformation, (int)length)), new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>
    /// NtLoadDriver. KernelBridge has no registry: the image path travels beside the service key.
    /// Like Windows' loader tools, it first enables SeLoadDriverPrivilege (an administrator holds it disabled).
    /// </summary>
    public static NtStatus NtLoadDriver(string driverServiceName, string imagePath) => NtLoadDriver(driverServiceName, imagePath, out _);

    /// <summary>NtLoadDriver, with the kernel's explanation when it fails.</summary>
    public static NtStatus NtLoadDriver(string driverServiceName, string imagePath, out string message)
    {
        message = "";
        if (!TryCurrentGate(out var gate, out var status))
        {
            message = LastConnectionError ?? "";
            return status;
        }
        TryEnableLoadDriverPrivilege(gate);
        using var answer = Syscalls.NtLoadDriver(gate, new NtLoadDriverRequest(0, 0), new(driverServiceName, Path.GetFullPath(imagePath)));
        var reply = answer.Reply;
        message = Utf8Message(NtLoadDriverReply.ReadData(in reply, answer.Data).Message);
        return answer.Status;
    }

    public static NtStatus NtUnloadDriver(string driverServiceName)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        TryEnableLoadDriverPrivilege(gate);
        return Syscalls.NtUnloadDriver(gate, new NtUnloadDriverRequest(0, 0), new(driverServiceName), out _);
    }
}
