using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    /// <summary>
    /// NtDeviceIoControlFile (IopXxxControlFile): probes, handle, the code's access bits against the
    /// handle, then an IRP whose buffers follow the code's transfer method.
    /// </summary>
    private void NtDeviceIoControlFile(in SyscallContext context, in NtDeviceIoControlFileRequest request, ReadOnlySpan<byte> data)
    {
        var code = new CtlCode(request.IoControlCode);
        var method = code.Method;
        // A null buffer counts as an empty one (its length is forced to 0), except under METHOD_NEITHER.
        var inputLength = request.InputBuffer != 0 ? (int)request.InputBufferLength : 0;
        var outputLength = request.OutputBuffer != 0 || method == TransferMethod.METHOD_NEITHER ? (int)request.OutputBufferLength : 0;
        if (request.InputBufferLength > WireProtocol.MaxTransferLength || request.OutputBufferLength > WireProtocol.MaxTransferLength)
        {
            Fail(context, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return;
        }
        var expectedShadow = method != TransferMethod.METHOD_BUFFERED && request.OutputBuffer != 0 ? (int)request.OutputBufferLength : 0;
        var reader = new WireReader(data);
        var input = reader.Take((uint)inputLength, "InputBuffer");
        if (request.OutputDataBytes != expectedShadow)
            throw new ProtocolViolationException($"NtDeviceIoControlFile: {request.OutputDataBytes} bytes of output buffer sent, {expectedShadow} expected");
        var shadow = reader.Take(request.OutputDataBytes, "OutputBuffer");
        reader.EnsureEnd("NtDeviceIoControlFile");

        // Probing: a direct method maps the output buffer, so a null one with a length faults.
        if (method is TransferMethod.METHOD_IN_DIRECT or TransferMethod.METHOD_OUT_DIRECT
            && request.OutputBuffer == 0 && request.OutputBufferLength != 0)
        {
            Fail(context, NtStatus.STATUS_ACCESS_VIOLATION);
            return;
        }
        var status = ReferenceFile(context, request.Handle, 0, out var file, out var granted);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var required = code.RequiredHandleAccess;
        if ((granted & required) != required)
        {
            Ob.Dereference(file!);
            Fail(context, NtStatus.STATUS_ACCESS_DENIED);
            return;
        }

        status = CompletionBinding.Bind(context, io, file!, request.Event, request.ApcRoutine, request.ApcContext, request.IoStatusBlock, out var binding);
        if (!status.IsSuccess)
        {
            Ob.Dereference(file!);
            Fail(context, status);
            return;
        }

        var irp = io.BuildFileIrp(file!, IrpMajorFunction.IRP_MJ_DEVICE_CONTROL, context.Thread, out var top);
        var pending = io.RentRequest(IoRequestKind.DeviceControl);
        binding.ApplyTo(pending);
        pending.Reply = context.Reply;
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file!;
        pending.Irp = irp;
        irp.UserBufferAddress = request.OutputBuffer;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.Parameters.DeviceIoControl = new DeviceIoControlParameters
        {
            IoControlCode = request.IoControlCode,
            // A null buffer is an empty one (except the neither method's input, passed raw).
            InputBufferLength = request.InputBuffer != 0 || method == TransferMethod.METHOD_NEITHER ? (int)request.InputBufferLength : 0,
            OutputBufferLength = outputLength,
        };

        switch (method)
        {
            case TransferMethod.METHOD_BUFFERED:
            {
                // One system buffer of max(in, out): the input is copied in, the output comes out of it.
                var size = Math.Max(inputLength, outputLength);
                pending.RentBuffer(size);
                input.CopyTo(pending.Rented);
                irp.SystemBuffer = size == 0 ? default : pending.Region(0, size);
                irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER;
                if (request.OutputBuffer != 0)
                {
                    irp.Flags |= IrpFlags.IRP_INPUT_OPERATION;
                    pending.BufferedCopyBack = true;
                    pending.OutputOffset = 0;
                    pending.OutputLength = outputLength;
                }
                break;
            }
            case TransferMethod.METHOD_IN_DIRECT:
            case TransferMethod.METHOD_OUT_DIRECT:
            {
                // The input is buffered; the output buffer is the caller's own, described by an MDL.
                pending.RentBuffer(inputLength + shadow.Length);
                input.CopyTo(pending.Rented);
                shadow.CopyTo(pending.Rented.AsSpan(inputLength));
                if (inputLength > 0)
                {
                    irp.SystemBuffer = pending.Region(0, inputLength);
                    irp.Flags = IrpFlags.IRP_BUFFERED_IO | IrpFlags.IRP_DEALLOCATE_BUFFER;
                }
                if (shadow.Length > 0) irp.MdlAddress = new Mdl(pending.Region(inputLength, shadow.Length), request.OutputBuffer);
                pending.WholeOutputGoesBack = true;
                pending.OutputOffset = inputLength;
                pending.OutputLength = shadow.Length;
                break;
            }
            default:
            {
                // METHOD_NEITHER: the driver gets the caller's buffers as they are.
                pending.RentBuffer(inputLength + shadow.Length);
                input.CopyTo(pending.Rented);
                shadow.CopyTo(pending.Rented.AsSpan(inputLength));
                stack.Parameters.DeviceIoControl.Type3InputBuffer = inputLength == 0 ? default : pending.Region(0, inputLength);
                irp.UserBuffer = shadow.Length == 0 ? default : pending.Region(inputLength, shadow.Length);
                pending.WholeOutputGoesBack = true;
                pending.OutputOffset = inputLength;
                pending.OutputLength = shadow.Length;
                break;
            }
        }
        pending.Start(top);
    }
}
