using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtSetInformationFile for the classes a file system answers: the length and the handle's access
/// checked as IopSetOperationLength / IopSetOperationAccess say, then IRP_MJ_SET_INFORMATION with
/// the information in a system buffer, waited for on any file.
/// </summary>
internal sealed partial class SystemServices
{
    /// <summary>The smallest structure of each class the file system sets (x64 sizes); 0 for a class the I/O manager keeps or does not know.</summary>
    private static int MinimumDriverSetLength(FileInformationClass informationClass) => informationClass switch
    {
        FileInformationClass.FileBasicInformation => 40,
        FileInformationClass.FileRenameInformation => 24,
        FileInformationClass.FileDispositionInformation => 1,
        FileInformationClass.FileAllocationInformation => 8,
        FileInformationClass.FileEndOfFileInformation => 8,
        FileInformationClass.FileDispositionInformationEx => 4,
        _ => 0,
    };

    /// <summary>What the handle must have been granted for the class (IopSetOperationAccess).</summary>
    private static uint SetOperationAccess(FileInformationClass informationClass) => informationClass switch
    {
        FileInformationClass.FileBasicInformation => AccessMask.FILE_WRITE_ATTRIBUTES,
        FileInformationClass.FileRenameInformation or FileInformationClass.FileDispositionInformation
            or FileInformationClass.FileDispositionInformationEx => AccessMask.DELETE,
        _ => AccessMask.FILE_WRITE_DATA,
    };

    /// <summary>Whether NtSetInformationFile hands this class to the file system.</summary>
    private static bool IsDriverSetClass(uint informationClass) => MinimumDriverSetLength((FileInformationClass)informationClass) != 0;

    /// <summary>The file system's part of NtSetInformationFile.</summary>
    private void SetInformationThroughDriver(in SyscallContext context, in NtSetInformationFileRequest request, ReadOnlySpan<byte> information)
    {
        var informationClass = (FileInformationClass)request.FileInformationClass;
        if (RefusedIo(context, CheckInformationLength(MinimumDriverSetLength(informationClass), (uint)information.Length))) return;
        using var file = Reference<IoFileObject>(context, request.Handle, SetOperationAccess(informationClass), ObjectTypes.File);
        if (RefusedIo(context, file.Status)) return;
        var parameters = new StackParameters
        {
            SetFile = new SetFileParameters { Length = information.Length, FileInformationClass = informationClass },
        };
        if (informationClass == FileInformationClass.FileRenameInformation)
        {
            var status = ResolveRenameTarget(context, file.Value, information, out var resolved);
            if (RefusedIo(context, status)) return;
            parameters.SetFile.Length = resolved.Length;
            parameters.SetFile.ReplaceIfExists = resolved[0] != 0;
            StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_SET_INFORMATION, resolved.Length, resolved, 0, parameters,
                context.Reply.IoSink, context.Reply.IoTag);
            return;
        }
        StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_SET_INFORMATION, information.Length, information, 0, parameters,
            context.Reply.IoSink, context.Reply.IoTag);
    }

    /// <summary>
    /// FILE_RENAME_INFORMATION (x64: ReplaceIfExists at 0, RootDirectory at 8, FileNameLength at 16,
    /// FileName at 20). A full name (one starting with a backslash) is resolved here, as
    /// IopOpenLinkOrRenameTarget does: it must lead to the file's own device (else
    /// STATUS_NOT_SAME_DEVICE), and the file system gets the structure back with the name made the
    /// path on that device ("\dir\new.txt"). A bare name (no backslash) renames within the file's
    /// directory and goes as it is. A RootDirectory is not supported: STATUS_INVALID_PARAMETER.
    /// </summary>
    private NtStatus ResolveRenameTarget(in SyscallContext context, IoFileObject file, ReadOnlySpan<byte> information, out byte[] resolved)
    {
        const int NameOffset = 20;
        resolved = [];
        var nameLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(information[16..]);
        var rootDirectory = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(information[8..]);
        if (nameLength == 0 || nameLength % 2 != 0 || nameLength > information.Length - NameOffset || rootDirectory != 0)
            return NtStatus.STATUS_INVALID_PARAMETER;
        var name = new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(information.Slice(NameOffset, (int)nameLength)));
        if (name[0] == '\\')
        {
            var status = LookupDevice(context, 0, name, out var device, out var remaining);
            if (!status.IsSuccess) return status;
            var sameDevice = ReferenceEquals(device, file.DeviceObject);
            _ob.Dereference(device!);
            if (!sameDevice) return NtStatus.STATUS_NOT_SAME_DEVICE;
            name = remaining;
            if (name.Length == 0) return NtStatus.STATUS_OBJECT_NAME_INVALID;
        }
        resolved = new byte[NameOffset + name.Length * 2];
        resolved[0] = information[0];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(resolved.AsSpan(16), (uint)(name.Length * 2));
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(name.AsSpan()).CopyTo(resolved.AsSpan(NameOffset));
        return NtStatus.STATUS_SUCCESS;
    }
}
