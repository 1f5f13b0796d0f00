using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQueryVolumeInformationFile and NtSetVolumeInformationFile (WRK io/iomgr/qsfs.c, with the
/// tables of iodata.c): the class and length are checked first, then the handle with the class's
/// access; the device information and the driver-path question the I/O manager answers itself;
/// the rest goes to the driver as IRP_MJ_QUERY_VOLUME_INFORMATION / IRP_MJ_SET_VOLUME_INFORMATION,
/// buffered, and the I/O manager waits for it on any file.
/// </summary>
internal sealed partial class SystemServices
{
    /// <summary>IopQueryFsOperationLength: the smallest buffer each class accepts (the structure's size); 0 = not a query class.</summary>
    private static int MinimumFsQueryLength(FsInformationClass informationClass) => informationClass switch
    {
        FsInformationClass.FileFsVolumeInformation => 24,
        FsInformationClass.FileFsSizeInformation => 24,
        FsInformationClass.FileFsDeviceInformation => 8,
        FsInformationClass.FileFsAttributeInformation => 16,
        FsInformationClass.FileFsControlInformation => 48,
        FsInformationClass.FileFsFullSizeInformation => 32,
        FsInformationClass.FileFsObjectIdInformation => 64,
        FsInformationClass.FileFsDriverPathInformation => 12,
        _ => 0,
    };

    /// <summary>IopSetFsOperationLength: the label, quota control and object id can be set; 0 = not a set class.</summary>
    private static int MinimumFsSetLength(FsInformationClass informationClass) => informationClass switch
    {
        FsInformationClass.FileFsLabelInformation => 8,
        FsInformationClass.FileFsControlInformation => 48,
        FsInformationClass.FileFsObjectIdInformation => 64,
        _ => 0,
    };

    public void NtQueryVolumeInformationFile(in SyscallContext context, in NtQueryVolumeInformationFileRequest request,
        NtQueryVolumeInformationFileRequest.Data data)
    {
        if (!request.InputFollowsRule)
            throw new ProtocolViolationException($"NtQueryVolumeInformationFile: {request.InputDataBytes} bytes of input sent for class {request.FsInformationClass}");
        var informationClass = (FsInformationClass)request.FsInformationClass;
        var checkedStatus = CheckInformationLength(MinimumFsQueryLength(informationClass), request.Length);
        if (RefusedIo(context, checkedStatus)) return;
        // IopQueryFsOperationAccess: the quota control information needs read access to the volume; the rest, any handle.
        var access = informationClass == FsInformationClass.FileFsControlInformation ? AccessMask.FILE_READ_DATA : 0;
        using var file = Reference<IoFileObject>(context, request.Handle, access, ObjectTypes.File);
        if (RefusedIo(context, file.Status)) return;

        var device = file.Value.DeviceObject;
        // FILE_FS_DEVICE_INFORMATION comes from the device object (a network redirector answers for itself).
        if (informationClass == FsInformationClass.FileFsDeviceInformation && device.DeviceType != DeviceType.FILE_DEVICE_NETWORK_FILE_SYSTEM)
        {
            Span<byte> answer = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(answer, (uint)device.DeviceType);
            // No volume is ever mounted here, so FILE_DEVICE_IS_MOUNTED is never added.
            BinaryPrimitives.WriteUInt32LittleEndian(answer[4..], (uint)device.Characteristics);
            AnswerIo(context, answer, answer.Length);
            return;
        }
        if (informationClass == FsInformationClass.FileFsDriverPathInformation)
        {
            var status = DriverInPath(device, data.Input, request.Length, out var inPath);
            if (!status.IsSuccess) FailIo(context, status);
            // Only DriverInPath is written back; the IOSB says the whole structure (12 bytes).
            else AnswerIo(context, [inPath ? (byte)1 : (byte)0], 12);
            return;
        }

        var parameters = new StackParameters
        {
            QueryVolume = new VolumeParameters { Length = (int)request.Length, FsInformationClass = informationClass },
        };
        StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_QUERY_VOLUME_INFORMATION, (int)request.Length, default, request.Buffer,
            parameters, context.Reply.IoSink, context.Reply.IoTag);
    }

    /// <summary>
    /// IopGetDriverPathInformation: FILE_FS_DRIVER_PATH_INFORMATION names a driver (\Driver\Name);
    /// the answer is whether one of its devices is in the file's device stack.
    /// </summary>
    private NtStatus DriverInPath(DeviceObject device, ReadOnlySpan<byte> input, uint length, out bool inPath)
    {
        inPath = false;
        // The question is read from the caller's buffer: a null one faults.
        if (input.Length < 12) return NtStatus.STATUS_ACCESS_VIOLATION;
        var nameLength = BinaryPrimitives.ReadUInt32LittleEndian(input[4..]);
        if (length - 8 < nameLength) return NtStatus.STATUS_INVALID_PARAMETER;
        // The name is taken as a UNICODE_STRING: its length is the low word.
        var nameBytes = Math.Min((int)(ushort)nameLength, input.Length - 8) & ~1;
        var name = new string(MemoryMarshal.Cast<byte, char>(input.Slice(8, nameBytes)));
        var status = _ob.LookupObject(name, null, caseInsensitive: true, openLink: false, out var found, out var remaining);
        if (!status.IsSuccess) return status;
        try
        {
            if (found is not DriverObject driver || remaining.Length != 0) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            for (DeviceObject? level = device; level is not null; level = level.AttachedDevice)
                inPath |= ReferenceEquals(level.DriverObject, driver);
            return NtStatus.STATUS_SUCCESS;
        }
        finally
        {
            _ob.Dereference(found!);
        }
    }

    public void NtSetVolumeInformationFile(in SyscallContext context, in NtSetVolumeInformationFileRequest request,
        NtSetVolumeInformationFileRequest.Data data)
    {
        var information = data.Information;
        var informationClass = (FsInformationClass)request.FsInformationClass;
        var checkedStatus = CheckInformationLength(MinimumFsSetLength(informationClass), (uint)information.Length);
        if (RefusedIo(context, checkedStatus)) return;
        // IopSetFsOperationAccess: every set class needs write access to the volume.
        using var file = Reference<IoFileObject>(context, request.Handle, AccessMask.FILE_WRITE_DATA, ObjectTypes.File);
        if (RefusedIo(context, file.Status)) return;
        var parameters = new StackParameters
        {
            SetVolume = new VolumeParameters { Length = information.Length, FsInformationClass = informationClass },
        };
        StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_SET_VOLUME_INFORMATION, information.Length, information, 0,
            parameters, context.Reply.IoSink, context.Reply.IoTag);
    }
}
