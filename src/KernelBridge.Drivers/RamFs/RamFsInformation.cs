using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// IRP_MJ_QUERY_INFORMATION and IRP_MJ_SET_INFORMATION on a file or directory, with the x64
/// layouts of ntifs.h. The I/O manager has checked the class, the length and the handle's access.
/// </summary>
internal static class RamFsInformation
{
    private const byte FILE_DISPOSITION_DELETE = 0x01;
    private const byte FILE_DISPOSITION_POSIX_SEMANTICS = 0x02;
    private const byte FILE_DISPOSITION_ON_CLOSE = 0x08;
    private const uint FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE = 0x10;

    public static NtStatus Query(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var parameters = stack.Parameters.QueryFile;
        var file = stack.FileObject;
        if (file?.FsContext is not RamFsFcb fcb || fcb.IsVolume) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var buffer = RamFsBuffers.Of(irp, parameters.Length);
        buffer.Clear();
        lock (fcb.Volume.Sync)
        {
            switch (parameters.FileInformationClass)
            {
                case FileInformationClass.FileBasicInformation when buffer.Length >= 40:
                    WriteBasic(buffer, fcb);
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 40);
                case FileInformationClass.FileStandardInformation when buffer.Length >= 24:
                    BinaryPrimitives.WriteInt64LittleEndian(buffer, fcb.AllocationSize);
                    BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], fcb.Length);
                    // A file being deleted still has its link until the last handle goes.
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], fcb.Unlinked ? 0u : 1u);
                    buffer[20] = fcb.DeletePending ? (byte)1 : (byte)0;
                    buffer[21] = fcb.IsDirectory ? (byte)1 : (byte)0;
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 24);
                case FileInformationClass.FileInternalInformation when buffer.Length >= 8:
                    BinaryPrimitives.WriteInt64LittleEndian(buffer, fcb.FileId);
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 8);
                case FileInformationClass.FileEaInformation when buffer.Length >= 4:
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 4);
                case FileInformationClass.FilePositionInformation when buffer.Length >= 8:
                    BinaryPrimitives.WriteInt64LittleEndian(buffer, file.CurrentByteOffset);
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 8);
                case FileInformationClass.FileNameInformation when buffer.Length >= 4:
                {
                    var status = WriteName(buffer, fcb.FullPath, out var written);
                    return RamFsDriver.Complete(irp, status, written);
                }
                default:
                    return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            }
        }
    }

    /// <summary>FILE_BASIC_INFORMATION: the four times and the attributes.</summary>
    private static void WriteBasic(Span<byte> buffer, RamFsFcb fcb)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer, fcb.CreationTime);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], fcb.LastAccessTime);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[16..], fcb.LastWriteTime);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[24..], fcb.ChangeTime);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[32..], (uint)fcb.ReportedAttributes);
    }

    /// <summary>FILE_NAME_INFORMATION: the whole name's length, then as much of it as fits (STATUS_BUFFER_OVERFLOW if not all).</summary>
    private static NtStatus WriteName(Span<byte> buffer, string name, out long written)
    {
        var bytes = MemoryMarshal.AsBytes(name.AsSpan());
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)bytes.Length);
        var room = buffer.Length - 4;
        if (bytes.Length > room)
        {
            bytes[..(room & ~1)].CopyTo(buffer[4..]);
            written = buffer.Length;
            return NtStatus.STATUS_BUFFER_OVERFLOW;
        }
        bytes.CopyTo(buffer[4..]);
        written = 4 + bytes.Length;
        return NtStatus.STATUS_SUCCESS;
    }

    public static NtStatus Set(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var parameters = stack.Parameters.SetFile;
        var file = stack.FileObject;
        if (file?.FsContext is not RamFsFcb fcb || file.FsContext2 is not RamFsCcb ccb || fcb.IsVolume)
            return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var input = RamFsBuffers.Of(irp, parameters.Length);
        lock (fcb.Volume.Sync)
        {
            if (ccb.CleanedUp) return RamFsDriver.Complete(irp, NtStatus.STATUS_FILE_CLOSED, 0);
            var status = parameters.FileInformationClass switch
            {
                FileInformationClass.FileDispositionInformation when input.Length >= 1 =>
                    SetDisposition(fcb, ccb, input[0] != 0 ? FILE_DISPOSITION_DELETE : 0u),
                FileInformationClass.FileDispositionInformationEx when input.Length >= 4 =>
                    SetDisposition(fcb, ccb, BinaryPrimitives.ReadUInt32LittleEndian(input)),
                FileInformationClass.FileEndOfFileInformation when input.Length >= 8 =>
                    SetEndOfFile(fcb, BinaryPrimitives.ReadInt64LittleEndian(input), truncateOnly: false),
                FileInformationClass.FileAllocationInformation when input.Length >= 8 =>
                    SetEndOfFile(fcb, BinaryPrimitives.ReadInt64LittleEndian(input), truncateOnly: true),
                FileInformationClass.FileBasicInformation when input.Length >= 40 => SetBasic(fcb, input),
                FileInformationClass.FileRenameInformation when input.Length >= 20 => RamFsRename.Rename(fcb, input, parameters.ReplaceIfExists),
                FileInformationClass.FilePositionInformation when input.Length >= 8 => SetPosition(file, BinaryPrimitives.ReadInt64LittleEndian(input)),
                _ => NtStatus.STATUS_INVALID_PARAMETER,
            };
            return RamFsDriver.Complete(irp, status, 0);
        }
    }

    /// <summary>
    /// FileDispositionInformation(Ex): mark (or unmark) the file for deletion at its last cleanup;
    /// with FILE_DISPOSITION_ON_CLOSE, set or clear this open's delete-on-close instead; with
    /// FILE_DISPOSITION_POSIX_SEMANTICS, the name goes at once. The root, a read-only file and a
    /// directory that is not empty cannot be deleted.
    /// </summary>
    private static NtStatus SetDisposition(RamFsFcb fcb, RamFsCcb ccb, uint flags)
    {
        var delete = (flags & FILE_DISPOSITION_DELETE) != 0;
        if (delete)
        {
            if (fcb.IsRoot) return NtStatus.STATUS_CANNOT_DELETE;
            if ((fcb.Attributes & FileAttributeFlags.FILE_ATTRIBUTE_READONLY) != 0 && (flags & FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE) == 0)
                return NtStatus.STATUS_CANNOT_DELETE;
            if (fcb.IsDirectory && fcb.Children!.Count != 0) return NtStatus.STATUS_DIRECTORY_NOT_EMPTY;
        }
        if ((flags & FILE_DISPOSITION_ON_CLOSE) != 0)
        {
            ccb.DeleteOnClose = delete;
            return NtStatus.STATUS_SUCCESS;
        }
        fcb.DeletePending = delete;
        if (delete && (flags & FILE_DISPOSITION_POSIX_SEMANTICS) != 0) fcb.Volume.Unlink(fcb);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>FileEndOfFileInformation (any size within the capacity) and FileAllocationInformation (which can only cut the file).</summary>
    private static NtStatus SetEndOfFile(RamFsFcb fcb, long length, bool truncateOnly)
    {
        if (fcb.IsDirectory || length < 0) return NtStatus.STATUS_INVALID_PARAMETER;
        if (truncateOnly && length >= fcb.Length) return NtStatus.STATUS_SUCCESS;
        if (length > Array.MaxLength) return NtStatus.STATUS_DISK_FULL;
        var status = fcb.Volume.Resize(fcb, length);
        if (status.IsSuccess) fcb.LastWriteTime = fcb.ChangeTime = RamFsVolume.Now();
        return status;
    }

    /// <summary>FileBasicInformation: a time of 0 leaves it as it is (-1, stop updating it, is taken as leave too); attributes 0 leave them.</summary>
    private static NtStatus SetBasic(RamFsFcb fcb, ReadOnlySpan<byte> input)
    {
        var attributes = (FileAttributeFlags)BinaryPrimitives.ReadUInt32LittleEndian(input[32..]);
        if ((attributes & FileAttributeFlags.FILE_ATTRIBUTE_DIRECTORY) != 0 && !fcb.IsDirectory) return NtStatus.STATUS_INVALID_PARAMETER;
        Update(ref fcb.CreationTime, BinaryPrimitives.ReadInt64LittleEndian(input));
        Update(ref fcb.LastAccessTime, BinaryPrimitives.ReadInt64LittleEndian(input[8..]));
        Update(ref fcb.LastWriteTime, BinaryPrimitives.ReadInt64LittleEndian(input[16..]));
        Update(ref fcb.ChangeTime, BinaryPrimitives.ReadInt64LittleEndian(input[24..]));
        if (attributes != FileAttributeFlags.None)
            fcb.Attributes = attributes & ~(FileAttributeFlags.FILE_ATTRIBUTE_DIRECTORY | FileAttributeFlags.FILE_ATTRIBUTE_NORMAL);
        return NtStatus.STATUS_SUCCESS;

        static void Update(ref long field, long value)
        {
            if (value > 0) field = value;
        }
    }

    /// <summary>A filter's IRP may set the position itself (the I/O manager answers a caller's directly).</summary>
    private static NtStatus SetPosition(FileObject file, long position)
    {
        if (position < 0) return NtStatus.STATUS_INVALID_PARAMETER;
        file.CurrentByteOffset = position;
        return NtStatus.STATUS_SUCCESS;
    }
}
