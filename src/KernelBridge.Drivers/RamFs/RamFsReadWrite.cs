using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// IRP_MJ_READ and IRP_MJ_WRITE at Parameters.Read/Write.ByteOffset, always (the I/O manager has
/// already put a synchronous file's position there when the caller gave none). A read at or past
/// the end is STATUS_END_OF_FILE; a write at FILE_WRITE_TO_END_OF_FILE appends; a synchronous
/// file's position moves on by what was moved, as file systems do.
/// </summary>
internal static class RamFsReadWrite
{
    /// <summary>FILE_WRITE_TO_END_OF_FILE as a LARGE_INTEGER (LowPart 0xFFFFFFFF, HighPart -1).</summary>
    public const long WriteToEndOfFile = -1;

    public static NtStatus Read(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var (offset, length) = (stack.Parameters.Read.ByteOffset, stack.Parameters.Read.Length);
        var file = stack.FileObject;
        if (file?.FsContext is not RamFsFcb fcb || file.FsContext2 is not RamFsCcb ccb) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
        lock (fcb.Volume.Sync)
        {
            var status = Usable(fcb, ccb);
            if (!status.IsSuccess) return RamFsDriver.Complete(irp, status, 0);
            if (offset < 0 || length < 0) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            if (length == 0) return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            if (offset >= fcb.Length) return RamFsDriver.Complete(irp, NtStatus.STATUS_END_OF_FILE, 0);
            var count = (int)Math.Min(length, fcb.Length - offset);
            var buffer = RamFsBuffers.Of(irp, count);
            fcb.Data.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
            fcb.LastAccessTime = RamFsVolume.Now();
            MovePosition(file, offset + buffer.Length);
            return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, buffer.Length);
        }
    }

    public static NtStatus Write(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var (offset, length) = (stack.Parameters.Write.ByteOffset, stack.Parameters.Write.Length);
        var file = stack.FileObject;
        if (file?.FsContext is not RamFsFcb fcb || file.FsContext2 is not RamFsCcb ccb) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
        lock (fcb.Volume.Sync)
        {
            var status = Usable(fcb, ccb);
            if (!status.IsSuccess) return RamFsDriver.Complete(irp, status, 0);
            if (offset == WriteToEndOfFile) offset = fcb.Length;
            if (offset < 0 || length < 0) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            if (length == 0) return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            var source = RamFsBuffers.Of(irp, length);
            var end = offset + source.Length;
            if (end > Array.MaxLength) return RamFsDriver.Complete(irp, NtStatus.STATUS_DISK_FULL, 0);
            if (end > fcb.Length)
            {
                status = fcb.Volume.Resize(fcb, end);
                if (!status.IsSuccess) return RamFsDriver.Complete(irp, status, 0);
            }
            source.CopyTo(fcb.Data.AsSpan((int)offset));
            fcb.LastWriteTime = fcb.ChangeTime = RamFsVolume.Now();
            fcb.Attributes |= FileAttributeFlags.FILE_ATTRIBUTE_ARCHIVE;
            MovePosition(file, end);
            return RamFsDriver.Complete(irp, NtStatus.STATUS_SUCCESS, source.Length);
        }
    }

    /// <summary>Reads and writes are for files that are still open: not directories, not the volume, not after cleanup.</summary>
    private static NtStatus Usable(RamFsFcb fcb, RamFsCcb ccb) =>
        ccb.CleanedUp ? NtStatus.STATUS_FILE_CLOSED
        : fcb.IsDirectory || fcb.IsVolume ? NtStatus.STATUS_INVALID_DEVICE_REQUEST
        : NtStatus.STATUS_SUCCESS;

    private static void MovePosition(FileObject file, long position)
    {
        if ((file.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0) file.CurrentByteOffset = position;
    }
}
