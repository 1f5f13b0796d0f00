using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    private const uint ValidObjectAttributes = 0x1FF2;

    /// <summary>
    /// NtCreateFile / NtOpenFile: resolves the name to a device (IopParseDevice), makes a new file
    /// object and sends IRP_MJ_CREATE down the device's stack. The handle exists only if the driver
    /// says yes.
    /// </summary>
    private void NtCreateFile(in SyscallContext context, in NtCreateFileRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(request.NameBytes, "ObjectName");
        reader.EnsureEnd("NtCreateFile");

        var failure = ValidateCreate(request);
        if (!failure.IsSuccess)
        {
            FailCreate(context, failure);
            return;
        }

        KernelObject? root = null;
        if (request.RootDirectory != 0)
        {
            var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, request.RootDirectory, 0, null,
                ProcessorMode.UserMode, out root, out _);
            if (!status.IsSuccess)
            {
                FailCreate(context, status);
                return;
            }
        }

        KernelObject? found;
        string remaining;
        try
        {
            // IoCreateFile opens by name with no type, so ObCaseInsensitive applies: case never matters here.
            var status = Ob.LookupObject(name, root, caseInsensitive: true, openLink: false, out found, out remaining);
            if (!status.IsSuccess)
            {
                FailCreate(context, status);
                return;
            }
        }
        finally
        {
            if (root is not null) Ob.Dereference(root);
        }

        if (found is not DeviceObject device)
        {
            Ob.Dereference(found!);
            FailCreate(context, NtStatus.STATUS_OBJECT_TYPE_MISMATCH);
            return;
        }

        var access = AccessCheck.Check(ObjectTypes.File, request.DesiredAccess, out var granted);
        var open = access.IsSuccess ? CheckDeviceOpenable(device) : access;
        if (open.IsSuccess)
        {
            // An exclusive device opens once: test and count in one step.
            if (device.Exclusive) open = Interlocked.CompareExchange(ref device.OpenCount, 1, 0) == 0 ? open : NtStatus.STATUS_ACCESS_DENIED;
            else Interlocked.Increment(ref device.OpenCount);
        }
        if (!open.IsSuccess)
        {
            Ob.Dereference(device);
            FailCreate(context, open);
            return;
        }

        // The file object keeps the lookup's reference on the device until it is deleted.
        var file = Ob.Track(new IoFileObject(device, remaining, granted, request.CreateOptions));
        var options = (CreateOptions)request.CreateOptions;
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

        var irp = io.BuildFileIrp(file, IrpMajorFunction.IRP_MJ_CREATE, context.Thread, out var top);
        irp.Flags = IrpFlags.IRP_CREATE_OPERATION | IrpFlags.IRP_SYNCHRONOUS_API;
        var stack = irp.StackAt(irp.CurrentLocation - 1);
        stack.Parameters.Create = new CreateParameters
        {
            DesiredAccess = granted,
            Options = options,
            Disposition = (CreateDisposition)request.CreateDisposition,
            FileAttributes = request.FileAttributes,
            ShareAccess = share,
        };

        var pending = io.RentRequest(IoRequestKind.Create);
        pending.Reply = context.Reply;
        pending.Process = context.Process;
        pending.Thread = context.Thread;
        pending.File = file;
        pending.Irp = irp;
        pending.GrantedAccess = granted;
        pending.HandleAttributes = (request.Attributes & (uint)ObjectAttributeFlags.OBJ_INHERIT) != 0 ? HandleAttributes.Inherit : HandleAttributes.None;
        pending.Start(top);
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
