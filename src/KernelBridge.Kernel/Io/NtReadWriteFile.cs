using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    /// <summary>
    /// NtReadFile: needs FILE_READ_DATA; the device's DO_BUFFERED_IO / DO_DIRECT_IO flag decides
    /// whether the driver sees a system buffer, an MDL or the caller's buffer itself.
    /// </summary>
    private void NtReadFile(in SyscallContext context, in NtReadFileRequest request, ReadOnlySpan<byte> data)
    {
        if (request.Length > WireProtocol.MaxTransferLength)
        {
            Fail(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        var reader = new WireReader(data);
        if (request.BufferDataBytes != 0 && request.BufferDataBytes != request.Length)
            throw new ProtocolViolationException($"NtReadFile: {request.BufferDataBytes} bytes of buffer sent for a {request.Length}-byte read");
        var current = reader.Take(request.BufferDataBytes, "Buffer");
        reader.EnsureEnd("NtReadFile");
        StartTransfer(context, IrpMajorFunction.IRP_MJ_READ, request.Handle, request.Buffer, (int)request.Length, request.Key,
            request.ByteOffset, (request.Flags & IoRequestFlags.HasByteOffset) != 0, current,
            request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock);
    }

    /// <summary>NtWriteFile: needs FILE_WRITE_DATA or FILE_APPEND_DATA.</summary>
    private void NtWriteFile(in SyscallContext context, in NtWriteFileRequest request, ReadOnlySpan<byte> data)
    {
        if (request.Length > WireProtocol.MaxTransferLength)
        {
            Fail(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        var reader = new WireReader(data);
        var payload = reader.Take(request.Length, "Buffer");
        reader.EnsureEnd("NtWriteFile");
        StartTransfer(context, IrpMajorFunction.IRP_MJ_WRITE, request.Handle, request.Buffer, (int)request.Length, request.Key,
            request.ByteOffset, (request.Flags & IoRequestFlags.HasByteOffset) != 0, payload,
            request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock);
    }

    private void StartTransfer(in SyscallContext context, IrpMajorFunction major, long handle, ulong userBuffer, int length,
        uint key, long byteOffset, bool hasByteOffset, ReadOnlySpan<byte> bytes, long eventHandle, ulong apcRoutine, ulong apcContext,
        ulong ioStatusBlock)
    {
        var isRead = major == IrpMajorFunction.IRP_MJ_READ;
        if (userBuffer == 0 && length != 0)
        {
            Fail(context, NtStatus.STATUS_ACCESS_VIOLATION);
            return;
        }
        var status = ReferenceFile(context, handle, 0, out var file, out var granted);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var needed = isRead ? AccessMask.FILE_READ_DATA : AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA;
        if ((granted & needed) == 0)
        {
            Ob.Dereference(file!);
            Fail(context, NtStatus.STATUS_ACCESS_DENIED);
            return;
        }
        var synchronous = (file!.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0;
        if (!synchronous && !hasByteOffset)
        {
            // An asynchronous file has no current position: the caller must say where.
            Ob.Dereference(file);
            Fail(context, NtStatus.STATUS_INVALID_PARAMETER);
            return;
        }

        status = CompletionBinding.Bind(context, io, file, eventHandle, apcRoutine, apcContext, ioStatusBlock, out var binding);
        if (!status.IsSuccess)
        {
            Ob.Dereference(file);
            Fail(context, status);
            return;
        }

        var irp = io.BuildFileIrp(file, major, context.Thread, out var top);
        var pending = io.RentRequest(isRead ? IoRequestKind.Read : IoRequestKind.Write);
        binding.ApplyTo(pending);
        pending.Reply = context.Reply;
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file;
        pending.Irp = irp;
        irp.UserBufferAddress = userBuffer;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        var parameters = new ReadWriteParameters
        {
            Length = length,
            Key = key,
            ByteOffset = hasByteOffset ? byteOffset : file.CurrentByteOffset,
        };
        if (isRead) stack.Parameters.Read = parameters;
        else stack.Parameters.Write = parameters;

        pending.RentBuffer(length);
        bytes.CopyTo(pending.Rented);
        var region = length == 0 ? default : pending.Region(0, length);
        var flags = top.Flags;
        if ((flags & DeviceFlags.DO_BUFFERED_IO) != 0)
        {
            irp.SystemBuffer = region;
            irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER | (isRead ? IrpFlags.IRP_INPUT_OPERATION | IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION);
            pending.BufferedCopyBack = isRead;
        }
        else
        {
            if ((flags & DeviceFlags.DO_DIRECT_IO) != 0)
            {
                if (length > 0) irp.MdlAddress = new Mdl(region, userBuffer);
            }
            else irp.UserBuffer = region;
            irp.Flags = isRead ? IrpFlags.IRP_READ_OPERATION : IrpFlags.IRP_WRITE_OPERATION;
            // The driver wrote into the caller's pages; if the client did not send them, only what
            // the driver reports having transferred is known to be meaningful.
            pending.WholeOutputGoesBack = isRead && bytes.Length == length;
            pending.BufferedCopyBack = isRead && bytes.Length != length;
        }
        pending.OutputOffset = 0;
        pending.OutputLength = isRead ? length : 0;
        pending.Start(top);
    }
}
