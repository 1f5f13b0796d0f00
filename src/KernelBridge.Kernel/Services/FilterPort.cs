using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Flt.Ports;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>FilterConnectCommunicationPort: a file object on FltMgrMsg, whose IRP_MJ_CREATE asks the port's connect callback.</summary>
internal sealed partial class SystemServices
{
    public void NtFltConnectCommunicationPort(in SyscallContext context, in NtFltConnectCommunicationPortRequest request,
        NtFltConnectCommunicationPortRequest.Data data)
    {
        if ((request.Options & ~FilterPortLimits.FLT_PORT_FLAG_SYNC_HANDLE) != 0 || (request.HandleAttributes & ~ValidObjectAttributes) != 0)
        {
            FailConnect(context, NtStatus.STATUS_INVALID_PARAMETER);
            return;
        }
        var name = new string(data.PortName);
        if (name.Length == 0)
        {
            FailConnect(context, NtStatus.STATUS_OBJECT_NAME_INVALID);
            return;
        }
        // The port's own descriptor is checked when the filter manager finds it (FltPortManager.Connect).
        var status = AccessCheck.Check(null, context.Process.Token, request.DesiredAccess, GenericMapping.File, ObjectTypes.File.ValidAccessMask, out var granted);
        if (!status.IsSuccess)
        {
            FailConnect(context, status);
            return;
        }
        var device = _host.Filters.Ports.Device;
        Ob.ObjectManager.Reference(device);
        Interlocked.Increment(ref device.OpenCount);
        var file = _ob.Track(new IoFileObject(device, name, granted, 0));
        file.ReadAccess = (granted & AccessMask.FILE_READ_DATA) != 0;
        file.WriteAccess = (granted & (AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA)) != 0;
        file.FsContext2 = new ConnectRequest(data.Context.ToArray());

        var irp = _io.BuildFileIrp(file, IrpMajorFunction.IRP_MJ_CREATE, context.Thread, out var top);
        irp.Flags = IrpFlags.IRP_CREATE_OPERATION | IrpFlags.IRP_SYNCHRONOUS_API;
        irp.StackAt(irp.CurrentLocation - 1).Parameters.Create = new CreateParameters
        {
            DesiredAccess = granted,
            Disposition = CreateDisposition.FILE_OPEN,
        };
        var pending = _io.RentRequest(IoRequestKind.Create);
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file;
        pending.Irp = irp;
        pending.Top = top;
        pending.Target = new FltConnectCall(_io, _ob, context.Reply, context.Process, file, HandleAttributesOf(request.HandleAttributes));
        pending.Start();
    }

    private static void FailConnect(in SyscallContext context, NtStatus status) => context.Reply.Send(status, new HandleReply(0));
}
