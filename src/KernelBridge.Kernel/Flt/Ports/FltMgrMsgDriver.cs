namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// The Filter Manager's message device, \FileSystem\Filters\FltMgrMsg. A connection is a file object
/// on it: IRP_MJ_CREATE connects (the connect callback decides), the FLT_CTL_* device controls carry
/// FilterGetMessage, FilterReplyMessage and FilterSendMessage, IRP_MJ_CLEANUP disconnects, and
/// IRP_MJ_CLOSE lets the client port go. Pending gets, overlapped I/O, completion ports, CancelIo and
/// rundown are the I/O manager's, as for any device.
/// </summary>
internal sealed class FltMgrMsgDriver(FltPortManager manager)
{
    /// <summary>The device's dispatch (the filter manager's driver routes IRPs for this device here).</summary>
    public NtStatus Dispatch(DeviceObject device, Irp irp) => Ddk.Io.GetCurrentIrpStackLocation(irp).MajorFunction switch
    {
        IrpMajorFunction.IRP_MJ_CREATE => Create(device, irp),
        IrpMajorFunction.IRP_MJ_CLEANUP => Cleanup(device, irp),
        IrpMajorFunction.IRP_MJ_CLOSE => Close(device, irp),
        IrpMajorFunction.IRP_MJ_DEVICE_CONTROL => DeviceControl(device, irp),
        _ => Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST),
    };

    private NtStatus Create(DeviceObject device, Irp irp)
    {
        var file = Ddk.Io.GetCurrentIrpStackLocation(irp).FileObject!;
        // Only the connect service makes a request; a plain open of the device is refused.
        if (file.FsContext2 is not ConnectRequest request) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
        file.FsContext2 = null;
        var status = manager.Connect(file.FileName, request.Context, out var client);
        if (status.IsSuccess) file.FsContext = client;
        return Complete(irp, status);
    }

    private static NtStatus Cleanup(DeviceObject device, Irp irp)
    {
        if (Ddk.Io.GetCurrentIrpStackLocation(irp).FileObject?.FsContext is ClientPort client) client.Cleanup();
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }

    private NtStatus Close(DeviceObject device, Irp irp)
    {
        var file = Ddk.Io.GetCurrentIrpStackLocation(irp).FileObject;
        if (file?.FsContext is ClientPort client)
        {
            file.FsContext = null;
            manager.ObjectManager.Dereference(client);
        }
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var stack = Ddk.Io.GetCurrentIrpStackLocation(irp);
        if (stack.FileObject?.FsContext is not ClientPort client) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
        var code = new CtlCode(stack.Parameters.DeviceIoControl.IoControlCode);
        if (code == FltControlCodes.FLT_CTL_GET_MESSAGE) return client.GetMessage(irp);
        if (code == FltControlCodes.FLT_CTL_REPLY_MESSAGE) return client.Reply(irp);
        if (code == FltControlCodes.FLT_CTL_SEND_MESSAGE) return client.UserSend(irp);
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST);
    }

    private static NtStatus Complete(Irp irp, NtStatus status)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = 0;
        Ddk.Io.CompleteRequest(irp);
        return status;
    }
}
