using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Echo;

/// <summary>
/// The classic IOCTL sample, done properly: one control code per transfer method, a per-open
/// message (WriteFile stores it, ReadFile returns it) and a per-open prefix that needs write access.
/// </summary>
public sealed class EchoDriver : IDriver
{
    /// <summary>What each open of the device owns (FsContext).</summary>
    private sealed class OpenState
    {
        private byte[] _message = [];
        private int _length;

        public byte[] Prefix = [];

        /// <summary>The last message written (or sent with IN_DIRECT), kept in a buffer that is reused when it fits.</summary>
        public ReadOnlySpan<byte> Message => _message.AsSpan(0, _length);

        public void Keep(ReadOnlySpan<byte> message)
        {
            if (_message.Length < message.Length) _message = new byte[message.Length];
            message.CopyTo(_message);
            _length = message.Length;
        }
    }

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, null, EchoInterface.DeviceName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;

        status = Io.CreateSymbolicLink(EchoInterface.DosName, EchoInterface.DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            return status;
        }

        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Create;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_READ] = Read;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_WRITE] = Write;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = Unload;

        device!.Flags |= DeviceFlags.DO_BUFFERED_IO;
        device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static void Unload(DriverObject driverObject)
    {
        Io.DeleteSymbolicLink(EchoInterface.DosName);
        while (driverObject.DeviceObject is { } device) Io.DeleteDevice(device);
    }

    private static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Create(DeviceObject device, Irp irp)
    {
        Io.GetCurrentIrpStackLocation(irp).FileObject!.FsContext = new OpenState();
        return Complete(irp, NtStatus.STATUS_SUCCESS, (long)CreateInformation.FILE_OPENED);
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS, 0);

    private static OpenState StateOf(IoStackLocation stack) => (OpenState)stack.FileObject!.FsContext!;

    private static NtStatus Read(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var state = StateOf(stack);
        return CopyOut(irp, state.Prefix, state.Message, irp.SystemBuffer.Span[..stack.Parameters.Read.Length]);
    }

    private static NtStatus Write(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        StateOf(stack).Keep(irp.SystemBuffer.Span[..stack.Parameters.Write.Length]);
        return Complete(irp, NtStatus.STATUS_SUCCESS, stack.Parameters.Write.Length);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var parameters = stack.Parameters.DeviceIoControl;
        var state = StateOf(stack);
        var code = parameters.IoControlCode;

        if (code == EchoInterface.IOCTL_ECHO_BUFFERED.Value)
        {
            // One system buffer holds the input and receives the output: take the input first.
            var length = parameters.InputBufferLength;
            var rented = length > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
            Span<byte> input = rented is null ? stackalloc byte[512] : rented;
            input = input[..length];
            irp.SystemBuffer.Span[..length].CopyTo(input);
            var status = CopyOut(irp, state.Prefix, input, irp.SystemBuffer.Span[..parameters.OutputBufferLength]);
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            return status;
        }
        if (code == EchoInterface.IOCTL_ECHO_IN_DIRECT.Value)
        {
            state.Keep(irp.MdlAddress is { } mdl ? Mm.GetSystemAddressForMdlSafe(mdl).Span : []);
            return Complete(irp, NtStatus.STATUS_SUCCESS, state.Message.Length);
        }
        if (code == EchoInterface.IOCTL_ECHO_OUT_DIRECT.Value)
        {
            var output = irp.MdlAddress is { } mdl ? Mm.GetSystemAddressForMdlSafe(mdl).Span : [];
            return CopyOut(irp, state.Prefix, irp.SystemBuffer.Span[..parameters.InputBufferLength], output);
        }
        if (code == EchoInterface.IOCTL_ECHO_NEITHER.Value)
        {
            // METHOD_NEITHER trusts nothing: buffers shorter than their lengths (a null pointer) are refused.
            if (parameters.Type3InputBuffer.Length < parameters.InputBufferLength || irp.UserBuffer.Length < parameters.OutputBufferLength)
                return Complete(irp, NtStatus.STATUS_INVALID_USER_BUFFER, 0);
            var input = parameters.Type3InputBuffer.Span[..parameters.InputBufferLength];
            return CopyOut(irp, state.Prefix, input, irp.UserBuffer.Span[..parameters.OutputBufferLength]);
        }
        if (code == EchoInterface.IOCTL_ECHO_SET_PREFIX.Value)
        {
            state.Prefix = irp.SystemBuffer.Span[..parameters.InputBufferLength].ToArray();
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }

    /// <summary>Writes prefix + data into output; what does not fit is cut and reported as STATUS_BUFFER_OVERFLOW.</summary>
    private static NtStatus CopyOut(Irp irp, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data, Span<byte> output)
    {
        var total = prefix.Length + data.Length;
        var fromPrefix = Math.Min(prefix.Length, output.Length);
        prefix[..fromPrefix].CopyTo(output);
        var fromData = Math.Min(data.Length, output.Length - fromPrefix);
        data[..fromData].CopyTo(output[fromPrefix..]);
        var copied = fromPrefix + fromData;
        return Complete(irp, copied < total ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS, copied);
    }
}
