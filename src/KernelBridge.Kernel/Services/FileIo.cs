using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Mm;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtReadFile, NtWriteFile and NtDeviceIoControlFile: the I/O manager's common start
/// (<see cref="IoManager.BeginFileRequest"/>), then buffers as the device's flags or the control
/// code's transfer method say. The outcome goes straight to the gate.
/// </summary>
internal sealed partial class SystemServices
{
    private static readonly FileAccessRule ReadAccess = new(AccessMask.FILE_READ_DATA);
    private static readonly FileAccessRule WriteAccess = new(0, AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA);

    /// <summary>FILE_USE_FILE_POINTER_POSITION as a LARGE_INTEGER (LowPart 0xFFFFFFFE, HighPart -1).</summary>
    private const long FileUseFilePointerPosition = -2;

    /// <summary>NtReadFile: needs FILE_READ_DATA; DO_BUFFERED_IO / DO_DIRECT_IO decide whether the driver sees a system buffer, an MDL or the caller's buffer.</summary>
    public void NtReadFile(in SyscallContext context, in NtReadFileRequest request, NtReadFileRequest.Data data)
    {
        if (!request.BufferFollowsRule)
            throw new ProtocolViolationException($"NtReadFile: {request.BufferDataBytes} bytes of buffer sent for a {request.Length}-byte read");
        StartTransfer(context, IrpMajorFunction.IRP_MJ_READ, request.Handle, request.Buffer, request.Length, request.Key, request.ByteOffset,
            request.Flags, data.Buffer, new CompletionRequest(request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock));
    }

    /// <summary>NtWriteFile: needs FILE_WRITE_DATA or FILE_APPEND_DATA.</summary>
    public void NtWriteFile(in SyscallContext context, in NtWriteFileRequest request, NtWriteFileRequest.Data data)
    {
        if (!request.BufferFollowsRule)
            throw new ProtocolViolationException($"NtWriteFile: {request.BufferDataBytes} bytes of data sent for a {request.Length}-byte write");
        StartTransfer(context, IrpMajorFunction.IRP_MJ_WRITE, request.Handle, request.Buffer, request.Length, request.Key, request.ByteOffset,
            request.Flags, data.Buffer, new CompletionRequest(request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock));
    }

    /// <summary>
    /// The caller's buffer when it lies in one of its views: the section's own memory, pinned (the
    /// probe-and-lock); false, with the caller answered, if the buffer is not in a view the transfer may use.
    /// </summary>
    private static bool TryLockView(in SyscallContext context, bool inView, ulong address, uint length, bool deviceWrites, out Memory<byte> memory,
        out KernelObject? pinned)
    {
        memory = default;
        pinned = null;
        if (!inView || length == 0) return true;
        var status = MemoryManager.ResolveUserBuffer(context.Process, address, length, deviceWrites, out memory, out var section);
        pinned = section;
        if (status.IsSuccess) return true;
        FailIo(context, status);
        return false;
    }

    private void StartTransfer(in SyscallContext context, IrpMajorFunction major, long handle, ulong userBuffer, uint length, uint key,
        long byteOffset, IoRequestFlags flags, ReadOnlySpan<byte> bytes, in CompletionRequest completion)
    {
        var isRead = major == IrpMajorFunction.IRP_MJ_READ;
        var hasByteOffset = (flags & IoRequestFlags.HasByteOffset) != 0;
        if (length > WireProtocol.MaxTransferLength)
        {
            FailIo(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        if (userBuffer == 0 && length != 0)
        {
            FailIo(context, NtStatus.STATUS_ACCESS_VIOLATION);
            return;
        }
        var inView = (flags & IoRequestFlags.BufferInView) != 0 && length != 0;
        if (!TryLockView(context, inView, userBuffer, length, deviceWrites: isRead, out var viewMemory, out var pinned)) return;
        var status = _io.BeginFileRequest(context.Process, context.Thread, handle, major, isRead ? IoRequestKind.Read : IoRequestKind.Write,
            isRead ? ReadAccess : WriteAccess, offsetMissing: !hasByteOffset, completion, out var pending);
        if (!status.IsSuccess && pinned is not null) _ob.Dereference(pinned);
        if (RefusedIo(context, status)) return;
        var request = pending!;
        request.Pinned1 = pinned;
        // FILE_USE_FILE_POINTER_POSITION on a synchronous file means its position, as no offset does.
        if (hasByteOffset && byteOffset == FileUseFilePointerPosition && request.File.IsSynchronous) hasByteOffset = false;
        if (inView)
        {
            StartTransferInView(request, isRead, userBuffer, (int)length, key, hasByteOffset ? byteOffset : request.File.CurrentByteOffset, viewMemory,
                context.Reply);
            return;
        }
        var irp = request.Irp;
        var file = request.File;
        request.Target = context.Reply.IoSink;
        request.Tag = context.Reply.IoTag;
        irp.UserBufferAddress = userBuffer;
        var parameters = new ReadWriteParameters
        {
            Length = (int)length,
            Key = key,
            ByteOffset = hasByteOffset ? byteOffset : file.CurrentByteOffset,
        };
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        if (isRead) stack.Parameters.Read = parameters;
        else stack.Parameters.Write = parameters;

        request.RentBuffer((int)length);
        bytes.CopyTo(request.Rented);
        var region = length == 0 ? default : request.Region(0, (int)length);
        var deviceFlags = request.Top.Flags;
        if ((deviceFlags & DeviceFlags.DO_BUFFERED_IO) != 0)
        {
            irp.SystemBuffer = region;
            irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | (isRead ? IrpFlags.IRP_INPUT_OPERATION | IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION);
            request.BufferedCopyBack = isRead;
        }
        else
        {
            if ((deviceFlags & DeviceFlags.DO_DIRECT_IO) != 0)
            {
                if (length > 0) irp.MdlAddress = new Mdl(region, userBuffer);
            }
            else irp.UserBuffer = region;
            irp.Flags = isRead ? IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION;
            // The driver wrote into the caller's pages; if the client did not send them, only what
            // the driver reports having transferred is known to be meaningful.
            request.WholeOutputGoesBack = isRead && bytes.Length == length;
            request.BufferedCopyBack = isRead && bytes.Length != length;
        }
        request.OutputOffset = 0;
        request.OutputLength = isRead ? (int)length : 0;
        request.Start();
    }

    /// <summary>
    /// A read or write whose buffer lies in a view: a direct or neither device works in the section
    /// itself (no copy at all); a buffered one gets a system buffer filled from, or copied back into,
    /// the view by the kernel (one copy). Nothing travels back but the IOSB.
    /// </summary>
    private static void StartTransferInView(IoRequest request, bool isRead, ulong userBuffer, int length, uint key, long byteOffset, Memory<byte> view,
        ReplyTarget reply)
    {
        var irp = request.Irp;
        request.Target = reply.IoSink;
        request.Tag = reply.IoTag;
        irp.UserBufferAddress = userBuffer;
        var parameters = new ReadWriteParameters { Length = length, Key = key, ByteOffset = byteOffset };
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        if (isRead) stack.Parameters.Read = parameters;
        else stack.Parameters.Write = parameters;
        var flags = request.Top.Flags;
        if ((flags & DeviceFlags.DO_BUFFERED_IO) != 0)
        {
            request.RentBuffer(length);
            if (!isRead) view.Span.CopyTo(request.Rented);
            irp.SystemBuffer = request.Region(0, length);
            irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | (isRead ? IrpFlags.IRP_INPUT_OPERATION | IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION);
            request.BufferedCopyBack = isRead;
            request.InPlaceOutput = isRead ? view : default;
            request.OutputLength = isRead ? length : 0;
        }
        else
        {
            if ((flags & DeviceFlags.DO_DIRECT_IO) != 0) irp.MdlAddress = new Mdl(view, userBuffer);
            else irp.UserBuffer = view;
            irp.Flags = isRead ? IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION;
        }
        request.Start();
    }

    /// <summary>
    /// NtDeviceIoControlFile (IopXxxControlFile): probes, the handle, the code's access bits against
    /// the handle, then an IRP whose buffers follow the code's transfer method.
    /// </summary>
    public void NtDeviceIoControlFile(in SyscallContext context, in NtDeviceIoControlFileRequest request, NtDeviceIoControlFileRequest.Data data)
    {
        if (!request.DataFollowsRules)
            throw new ProtocolViolationException($"NtDeviceIoControlFile: {request.InputDataBytes} input and {request.OutputDataBytes} output bytes sent, not what the buffers say");
        var code = new CtlCode(request.IoControlCode);
        var method = code.Method;
        if (request.InputBufferLength > WireProtocol.MaxTransferLength || request.OutputBufferLength > WireProtocol.MaxTransferLength)
        {
            FailIo(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        // Probing: a direct method maps the output buffer, so a null one with a length faults.
        if (method is TransferMethod.METHOD_IN_DIRECT or TransferMethod.METHOD_OUT_DIRECT && request.OutputBuffer == 0 && request.OutputBufferLength != 0)
        {
            FailIo(context, NtStatus.STATUS_ACCESS_VIOLATION);
            return;
        }
        // Buffers in the caller's views are locked where they lie: the input (never written by the
        // device), and the output (written unless the method is METHOD_IN_DIRECT, whose output buffer the device reads).
        var inputInView = (request.Flags & IoRequestFlags.InputInView) != 0 && request.InputBuffer != 0 && request.InputBufferLength != 0;
        var outputInView = (request.Flags & IoRequestFlags.OutputInView) != 0 && request.OutputBuffer != 0 && request.OutputBufferLength != 0;
        if (!TryLockView(context, inputInView, request.InputBuffer, request.InputBufferLength, deviceWrites: false, out var inputView, out var inputPin)) return;
        if (!TryLockView(context, outputInView, request.OutputBuffer, request.OutputBufferLength, deviceWrites: method != TransferMethod.METHOD_IN_DIRECT,
            out var outputView, out var outputPin))
        {
            if (inputPin is not null) _ob.Dereference(inputPin);
            return;
        }
        var status = _io.BeginFileRequest(context.Process, context.Thread, request.Handle, IrpMajorFunction.IRP_MJ_DEVICE_CONTROL, IoRequestKind.DeviceControl,
            new FileAccessRule(code.RequiredHandleAccess), offsetMissing: false,
            new CompletionRequest(request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock), out var pending);
        if (!status.IsSuccess)
        {
            if (inputPin is not null) _ob.Dereference(inputPin);
            if (outputPin is not null) _ob.Dereference(outputPin);
        }
        if (RefusedIo(context, status)) return;

        var call = pending!;
        call.Pinned1 = inputPin;
        call.Pinned2 = outputPin;
        var irp = call.Irp;
        call.Target = context.Reply.IoSink;
        call.Tag = context.Reply.IoTag;
        irp.UserBufferAddress = request.OutputBuffer;
        var input = inputInView ? inputView.Span : data.Input;
        var shadow = data.Output;
        // A null buffer counts as an empty one (its length is forced to 0), except under METHOD_NEITHER.
        var outputLength = request.OutputBuffer != 0 || method == TransferMethod.METHOD_NEITHER ? (int)request.OutputBufferLength : 0;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.Parameters.DeviceIoControl = new DeviceIoControlParameters
        {
            IoControlCode = request.IoControlCode,
            InputBufferLength = request.InputBuffer != 0 || method == TransferMethod.METHOD_NEITHER ? (int)request.InputBufferLength : 0,
            OutputBufferLength = outputLength,
        };

        switch (method)
        {
            case TransferMethod.METHOD_BUFFERED:
            {
                // One system buffer of max(in, out): the input is copied in, the output comes out of it.
                var size = Math.Max(input.Length, outputLength);
                call.RentBuffer(size);
                input.CopyTo(call.Rented);
                irp.SystemBuffer = size == 0 ? default : call.Region(0, size);
                irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER;
                if (request.OutputBuffer != 0)
                {
                    irp.Flags |= IrpFlags.IRP_INPUT_OPERATION;
                    call.BufferedCopyBack = true;
                    call.OutputOffset = 0;
                    call.OutputLength = outputLength;
                    call.InPlaceOutput = outputView;
                }
                break;
            }
            case TransferMethod.METHOD_IN_DIRECT:
            case TransferMethod.METHOD_OUT_DIRECT:
            {
                // The input is buffered; the output buffer is the caller's own, described by an MDL.
                ShadowBuffers(call, input, shadow);
                if (input.Length > 0)
                {
                    irp.SystemBuffer = call.Region(0, input.Length);
                    irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER;
                }
                if (outputInView) irp.MdlAddress = new Mdl(outputView, request.OutputBuffer);
                else if (shadow.Length > 0) irp.MdlAddress = new Mdl(call.Region(input.Length, shadow.Length), request.OutputBuffer);
                break;
            }
            default:
            {
                // METHOD_NEITHER: the driver gets the caller's buffers as they are. One in a view is the
                // caller's live memory: the caller can change it while the driver reads (see docs/writing-a-driver.md).
                var copied = inputInView ? 0 : input.Length;
                ShadowBuffers(call, input[..copied], shadow);
                stack.Parameters.DeviceIoControl.Type3InputBuffer = inputInView ? inputView : copied == 0 ? default : call.Region(0, copied);
                irp.UserBuffer = outputInView ? outputView : shadow.Length == 0 ? default : call.Region(copied, shadow.Length);
                break;
            }
        }
        call.Start();
    }

    /// <summary>Direct and neither methods: the input, then the caller's output buffer as it stands, all of which goes back.</summary>
    private static void ShadowBuffers(IoRequest call, ReadOnlySpan<byte> input, ReadOnlySpan<byte> shadow)
    {
        call.RentBuffer(input.Length + shadow.Length);
        input.CopyTo(call.Rented);
        shadow.CopyTo(call.Rented.AsSpan(input.Length));
        call.WholeOutputGoesBack = true;
        call.OutputOffset = input.Length;
        call.OutputLength = shadow.Length;
    }
}
