using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Scanner;

/// <summary>
/// Windows-driver-samples' scanner, as a KernelBridge minifilter: it asks a user-mode service over
/// the communication port \ScannerPort whether a file may be opened (its content, read with
/// FltReadFile after the create), whether data may be written (the write's buffer), and tells it
/// about files closed after being written to. An infected open is cancelled (STATUS_ACCESS_DENIED),
/// an infected write fails. The service's own file I/O is never scanned. With no service connected,
/// or one that does not answer within 5 s, the policy decides (allow by default, as the sample).
/// One service at a time (MaxConnections 1). The control device \Device\Scanner sets the policy and
/// reports statistics.
/// </summary>
public static class ScannerDriver
{
    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var state = new ScannerState();
        var status = Io.CreateDevice(driverObject, state, ScannerInterface.ControlDeviceName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var control);
        if (!status.IsSuccess) return status;
        control!.Flags = (control.Flags | DeviceFlags.DO_BUFFERED_IO) & ~DeviceFlags.DO_DEVICE_INITIALIZING;
        status = Io.CreateSymbolicLink(ScannerInterface.ControlDosName, ScannerInterface.ControlDeviceName);
        if (!status.IsSuccess) return Undo(state, control, status);

        var filter = new ScannerFilter(state);
        status = Flt.RegisterFilter(driverObject, filter.Registration(), out var registered);
        if (!status.IsSuccess) return Undo(state, control, status);
        state.Filter = registered!;
        status = Flt.CreateCommunicationPort(registered!, out var port, ScannerInterface.PortName, null, state, state.Connect, state.Disconnect, null,
            maxConnections: 1);
        if (!status.IsSuccess) return Undo(state, control, status);
        state.ServerPort = port;
        status = Flt.StartFiltering(registered!);
        if (!status.IsSuccess) return Undo(state, control, status);

        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = _ => Undo(state, control, NtStatus.STATUS_SUCCESS);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>What DriverEntry did, undone in reverse (also DriverUnload): the port, the filter, the link, the device.</summary>
    private static NtStatus Undo(ScannerState state, DeviceObject control, NtStatus status)
    {
        if (state.ServerPort is { } port) Flt.CloseCommunicationPort(port);
        state.CloseClient();
        if (state.Filter is { } filter) Flt.UnregisterFilter(filter);
        Io.DeleteSymbolicLink(ScannerInterface.ControlDosName);
        Io.DeleteDevice(control);
        return status;
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS);

    private static NtStatus Complete(Irp irp, NtStatus status, long information = 0)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var state = device.Extension<ScannerState>();
        var parameters = Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl;
        var buffer = irp.SystemBuffer.Span;
        if (parameters.IoControlCode == ScannerInterface.IOCTL_SCANNER_GET_STATISTICS.Value)
        {
            var size = Marshal.SizeOf<ScannerStatistics>();
            if (parameters.OutputBufferLength < size) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL);
            var statistics = state.Statistics();
            MemoryMarshal.Write(buffer, in statistics);
            return Complete(irp, NtStatus.STATUS_SUCCESS, size);
        }
        if (parameters.IoControlCode == ScannerInterface.IOCTL_SCANNER_SET_POLICY.Value)
        {
            if (parameters.InputBufferLength < sizeof(uint)) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL);
            var policy = MemoryMarshal.Read<ScannerPolicy>(buffer);
            if (policy is not (ScannerPolicy.AllowWhenUnscanned or ScannerPolicy.DenyWhenUnscanned)) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
            state.Policy = policy;
            return Complete(irp, NtStatus.STATUS_SUCCESS);
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST);
    }
}
