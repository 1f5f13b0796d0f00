using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateFile / NtOpenFile: the name resolved to a device (IopParseDevice), a new file object, IRP_MJ_CREATE down its stack.</summary>
internal sealed partial class SystemServices
{
    private const uint ValidObjectAttributes = 0x1FF2;

    /// <summary>The handle exists only if the driver says yes (see <see cref="CreateFileCall"/>).</summary>
    public void NtCreateFile(in SyscallContext context, in NtCreateFileRequest request, NtCreateFileRequest.Data data)
    {
        var failure = ValidateCreate(request);
        if (!failure.IsSuccess)
        {
            FailCreate(context, failure);
            return;
        }
        var status = LookupDevice(context, request.RootDirectory, new string(data.ObjectName), out var device, out var remaining);
        if (!status.IsSuccess)
        {
            FailCreate(context, status);
            return;
        }

        status = CheckDeviceAccess(context.Process.Token, device!, remaining, request.DesiredAccess, out var granted);
        if (status.IsSuccess) status = CheckDeviceOpenable(device!);
        if (status.IsSuccess)
        {
            // An exclusive device opens once: test and count in one step.
            if (device!.Exclusive) status = Interlocked.CompareExchange(ref device.OpenCount, 1, 0) == 0 ? status : NtStatus.STATUS_ACCESS_DENIED;
            else Interlocked.Increment(ref device.OpenCount);
        }
        if (!status.IsSuccess)
        {
            _ob.Dereference(device!);
            FailCreate(context, status);
            return;
        }

        // The file object keeps the lookup's reference on the device until it is deleted.
        var options = (CreateOptions)request.CreateOptions;
        var file = _ob.Track(new IoFileObject(device!, remaining, granted, request.CreateOptions));
        if ((options & (CreateOptions.FILE_SYNCHRONOUS_IO_ALERT | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT)) != 0)
            file.Flags |= FileObjectFlags.FO_SYNCHRONOUS_IO;
        if ((options & CreateOptions.FILE_SYNCHRONOUS_IO_ALERT) != 0) file.Flags |= FileObjectFlags.FO_ALERTABLE_IO;
        file.ReadAccess = (granted & AccessMask.FILE_READ_DATA) != 0;
        file.WriteAccess = (granted & (AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA)) != 0;
        file.DeleteAccess = (granted & AccessMask.DELETE) != 0;
        var share = (ShareAccess)request.ShareAccess;
        file.SharedRead = (share & ShareAccess.FILE_SHARE_READ) != 0;
        file.SharedWrite = (share & ShareAccess.FILE_SHARE_WRITE) != 0;
        file.SharedDelete = (share & ShareAccess.FILE_SHARE_DELETE) != 0;

        var irp = _io.BuildFileIrp(file, IrpMajorFunction.IRP_MJ_CREATE, context.Thread, out var top);
        irp.Flags = IrpFlags.IRP_CREATE_OPERATION | IrpFlags.IRP_SYNCHRONOUS_API;
        irp.StackAt(irp.CurrentLocation - 1).Parameters.Create = new CreateParameters
        {
            DesiredAccess = granted,
            Options = options,
            Disposition = (CreateDisposition)request.CreateDisposition,
            FileAttributes = request.FileAttributes,
            ShareAccess = share,
        };

        var pending = _io.RentRequest(IoRequestKind.Create);
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file;
        pending.Irp = irp;
        pending.Top = top;
        pending.Target = new CreateFileCall(_io, _ob, context.Reply, context.Process, file, HandleAttributesOf(request.Attributes));
        pending.Start();
    }

    /// <summary>The device a name leads to (IoCreateFile opens by name with no type, so case never matters), referenced; and the rest of the name.</summary>
    private NtStatus LookupDevice(in SyscallContext context, long rootHandle, string name, out DeviceObject? device, out string remaining)
    {
        device = null;
        remaining = "";
        using var root = rootHandle != 0 ? Reference<KernelObject>(context, rootHandle, 0, null) : default;
        if (rootHandle != 0 && !root.Status.IsSuccess) return root.Status;
        var status = _ob.LookupObject(name, rootHandle != 0 ? root.Value : null, caseInsensitive: true, openLink: false, out var found, out remaining);
        if (!status.IsSuccess) return status;
        if (found is not DeviceObject target)
        {
            _ob.Dereference(found!);
            return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        device = target;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus ValidateCreate(in NtCreateFileRequest request)
    {
        if ((request.Attributes & ~ValidObjectAttributes) != 0) return NtStatus.STATUS_INVALID_PARAMETER;
        if (request.CreateDisposition > (uint)CreateDisposition.FILE_OVERWRITE_IF) return NtStatus.STATUS_INVALID_PARAMETER;
        var options = (CreateOptions)request.CreateOptions;
        const CreateOptions bothSync = CreateOptions.FILE_SYNCHRONOUS_IO_ALERT | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT;
        if ((options & bothSync) == bothSync) return NtStatus.STATUS_INVALID_PARAMETER;
        // Synchronous I/O waits on the file object, so it needs SYNCHRONIZE.
        if ((options & bothSync) != 0 && (request.DesiredAccess & (AccessMask.SYNCHRONIZE | AccessMask.GENERIC_ALL | AccessMask.MAXIMUM_ALLOWED)) == 0)
            return NtStatus.STATUS_INVALID_PARAMETER;
        if ((options & CreateOptions.FILE_DIRECTORY_FILE) != 0 && (options & CreateOptions.FILE_NON_DIRECTORY_FILE) != 0)
            return NtStatus.STATUS_INVALID_PARAMETER;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>IopCheckDeviceAndDriver: initializing, deleted or faulted devices are not there.</summary>
    private static NtStatus CheckDeviceOpenable(DeviceObject device)
    {
        if (device.DeletePending || (device.Flags & DeviceFlags.DO_DEVICE_INITIALIZING) != 0 || device.DriverObject.Faulted)
            return NtStatus.STATUS_NO_SUCH_DEVICE;
        return NtStatus.STATUS_SUCCESS;
    }

    private static void FailCreate(in SyscallContext context, NtStatus status) =>
        context.Reply.Send(status, new NtCreateFileReply(0, default, IoReplyFlags.None, 0));
}
