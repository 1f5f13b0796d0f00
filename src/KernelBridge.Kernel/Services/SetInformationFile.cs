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
        StartWaitedRequest(context, file.Share(), IrpMajorFunction.IRP_MJ_SET_INFORMATION, information.Length, information, 0, parameters,
            context.Reply.IoSink, context.Reply.IoTag);
    }
}
