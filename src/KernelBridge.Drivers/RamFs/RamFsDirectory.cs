using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// IRP_MJ_DIRECTORY_CONTROL / IRP_MN_QUERY_DIRECTORY: a directory's entries in name order (a
/// non-root directory first lists "." and "..", as NTFS does), filtered by the pattern the first
/// query gave (FsRtlIsNameInExpression), resumed after the last name returned. Entries start on
/// 8-byte boundaries; an entry that does not fit whole waits for the next query, unless it is the
/// first, which is cut short with STATUS_BUFFER_OVERFLOW (and returned again by the next query).
/// </summary>
internal static class RamFsDirectory
{
    private const int AlignmentOfEntries = 8;

    public static NtStatus Control(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        if (stack.MinorFunction != IoStackLocation.IRP_MN_QUERY_DIRECTORY) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
        var parameters = stack.Parameters.QueryDirectory;
        var file = stack.FileObject;
        if (file?.FsContext is not RamFsFcb fcb || file.FsContext2 is not RamFsCcb ccb || !fcb.IsDirectory)
            return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var nameOffset = NameOffset(parameters.FileInformationClass);
        if (nameOffset == 0) return RamFsDriver.Complete(irp, NtStatus.STATUS_INVALID_INFO_CLASS, 0);
        var buffer = RamFsBuffers.Of(irp, parameters.Length);
        if (buffer.Length < nameOffset) return RamFsDriver.Complete(irp, NtStatus.STATUS_INFO_LENGTH_MISMATCH, 0);
        var restart = (stack.Flags & IoStackLocation.SL_RESTART_SCAN) != 0;
        var single = (stack.Flags & IoStackLocation.SL_RETURN_SINGLE_ENTRY) != 0;

        lock (fcb.Volume.Sync)
        {
            if (ccb.CleanedUp) return RamFsDriver.Complete(irp, NtStatus.STATUS_FILE_CLOSED, 0);
            // Only a handle's very first query can find "no such file"; after it (restarted or not) the end is "no more files".
            var initial = ccb.Pattern is null;
            // The first query's pattern stays for the open's life (later ones are ignored, as NTFS and FastFAT do).
            if (ccb.Pattern is null)
            {
                var pattern = string.IsNullOrEmpty(parameters.FileName) ? "*" : parameters.FileName;
                if (pattern.Contains('\\', StringComparison.Ordinal)) return RamFsDriver.Complete(irp, NtStatus.STATUS_OBJECT_NAME_INVALID, 0);
                ccb.Pattern = pattern;
            }
            if (restart)
            {
                ccb.DotsReturned = 0;
                ccb.ResumeAfter = null;
            }
            var status = Fill(fcb, ccb, parameters.FileInformationClass, nameOffset, buffer, single, out var information);
            if (status.IsSuccess && information == 0) status = initial ? NtStatus.STATUS_NO_SUCH_FILE : NtStatus.STATUS_NO_MORE_FILES;
            return RamFsDriver.Complete(irp, status, information);
        }
    }

    /// <summary>Where FileName starts in each class's entry (x64), which is also the smallest entry; 0 for a class not served.</summary>
    private static int NameOffset(FileInformationClass informationClass) => informationClass switch
    {
        FileInformationClass.FileDirectoryInformation => 64,
        FileInformationClass.FileFullDirectoryInformation => 68,
        FileInformationClass.FileBothDirectoryInformation => 94,
        FileInformationClass.FileNamesInformation => 12,
        FileInformationClass.FileIdBothDirectoryInformation => 104,
        FileInformationClass.FileIdFullDirectoryInformation => 80,
        _ => 0,
    };

    private static NtStatus Fill(RamFsFcb directory, RamFsCcb ccb, FileInformationClass informationClass, int nameOffset, Span<byte> buffer, bool single,
        out long information)
    {
        information = 0;
        var previous = -1;
        var count = 0;
        foreach (var (name, entry, isDot) in Candidates(directory, ccb))
        {
            if (!RamFsNames.Matches(ccb.Pattern!, name)) continue;
            var start = count == 0 ? 0 : Align((int)information);
            var nameBytes = MemoryMarshal.AsBytes(name.AsSpan());
            var size = nameOffset + nameBytes.Length;
            if (count > 0 && start + size > buffer.Length) break;
            var overflow = size > buffer.Length - start;
            var slot = buffer[start..];
            slot[..Math.Min(size, slot.Length)].Clear();
            WriteFixedPart(slot, informationClass, entry, nameBytes.Length);
            var copied = overflow ? (slot.Length - nameOffset) & ~1 : nameBytes.Length;
            nameBytes[..copied].CopyTo(slot[nameOffset..]);
            if (previous >= 0) BinaryPrimitives.WriteUInt32LittleEndian(buffer[previous..], (uint)(start - previous));
            if (overflow)
            {
                information = buffer.Length;
                return NtStatus.STATUS_BUFFER_OVERFLOW;
            }
            information = start + size;
            previous = start;
            count++;
            if (isDot) ccb.DotsReturned++;
            else ccb.ResumeAfter = name;
            if (single) break;
        }
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>What the listing has still to offer, in order: the dots not yet returned, then the entries after the last name returned.</summary>
    private static IEnumerable<(string Name, RamFsFcb Entry, bool IsDot)> Candidates(RamFsFcb directory, RamFsCcb ccb)
    {
        if (!directory.IsRoot)
        {
            if (ccb.DotsReturned == 0) yield return (".", directory, true);
            if (ccb.DotsReturned <= 1) yield return ("..", directory.Parent!, true);
        }
        var resumeAfter = ccb.ResumeAfter;
        var names = directory.Children!.Values
            .Where(e => resumeAfter is null || string.Compare(e.Name, resumeAfter, StringComparison.OrdinalIgnoreCase) > 0)
            .OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
        foreach (var entry in names) yield return (entry.Name, entry, false);
    }

    /// <summary>Everything of an entry but NextEntryOffset (written when the next entry is placed) and the name.</summary>
    private static void WriteFixedPart(Span<byte> slot, FileInformationClass informationClass, RamFsFcb entry, int nameLength)
    {
        if (informationClass == FileInformationClass.FileNamesInformation)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(slot[8..], (uint)nameLength);
            return;
        }
        BinaryPrimitives.WriteInt64LittleEndian(slot[8..], entry.CreationTime);
        BinaryPrimitives.WriteInt64LittleEndian(slot[16..], entry.LastAccessTime);
        BinaryPrimitives.WriteInt64LittleEndian(slot[24..], entry.LastWriteTime);
        BinaryPrimitives.WriteInt64LittleEndian(slot[32..], entry.ChangeTime);
        BinaryPrimitives.WriteInt64LittleEndian(slot[40..], entry.Length);
        BinaryPrimitives.WriteInt64LittleEndian(slot[48..], entry.AllocationSize);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[56..], (uint)entry.ReportedAttributes);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[60..], (uint)nameLength);
        if (informationClass == FileInformationClass.FileIdBothDirectoryInformation) BinaryPrimitives.WriteInt64LittleEndian(slot[96..], entry.FileId);
        if (informationClass == FileInformationClass.FileIdFullDirectoryInformation) BinaryPrimitives.WriteInt64LittleEndian(slot[72..], entry.FileId);
        // EaSize (full and both) and the short name (both) stay 0: RamFs keeps no EAs and no 8.3 names.
    }

    private static int Align(int offset) => (offset + AlignmentOfEntries - 1) & ~(AlignmentOfEntries - 1);
}
