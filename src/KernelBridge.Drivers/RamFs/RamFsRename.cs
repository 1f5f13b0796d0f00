using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// FileRenameInformation. The I/O manager has made the name either a bare name (rename within the
/// file's directory) or a path on this volume ("\dir\new.txt"). As NTFS: an existing target is
/// STATUS_OBJECT_NAME_COLLISION unless ReplaceIfExists, and even then a directory or a file with
/// open handles is STATUS_ACCESS_DENIED; a directory with open files below it cannot move; a
/// rename that changes only the case is allowed.
/// </summary>
internal static class RamFsRename
{
    private const int NameOffset = 20;

    /// <summary>Runs under the volume's lock.</summary>
    public static NtStatus Rename(RamFsFcb fcb, ReadOnlySpan<byte> input, bool replaceIfExists)
    {
        var nameLength = BinaryPrimitives.ReadInt32LittleEndian(input[16..]);
        if (nameLength <= 0 || nameLength % 2 != 0 || nameLength > input.Length - NameOffset) return NtStatus.STATUS_INVALID_PARAMETER;
        if (fcb.Parent is null || fcb.Unlinked) return NtStatus.STATUS_INVALID_PARAMETER;
        if (fcb.DeletePending) return NtStatus.STATUS_DELETE_PENDING;
        var name = new string(MemoryMarshal.Cast<byte, char>(input.Slice(NameOffset, nameLength)));
        var volume = fcb.Volume;

        RamFsFcb parent;
        string newName;
        if (name[0] == '\\')
        {
            var status = RamFsNames.Parse(name, out var parts, out var trailingBackslash);
            if (!status.IsSuccess) return status;
            if (parts.Length == 0 || (trailingBackslash && !fcb.IsDirectory)) return NtStatus.STATUS_OBJECT_NAME_INVALID;
            status = volume.FindParent(parts, out parent);
            if (!status.IsSuccess) return status;
            newName = parts[^1];
        }
        else
        {
            if (!RamFsNames.IsValidName(name)) return NtStatus.STATUS_OBJECT_NAME_INVALID;
            parent = fcb.Parent;
            newName = name;
        }
        if (parent.DeletePending) return NtStatus.STATUS_DELETE_PENDING;
        // A directory cannot go below itself.
        for (var ancestor = parent; ancestor is not null; ancestor = ancestor.Parent)
            if (ReferenceEquals(ancestor, fcb)) return NtStatus.STATUS_INVALID_PARAMETER;
        if (fcb.IsDirectory && HasOpenDescendant(fcb)) return NtStatus.STATUS_ACCESS_DENIED;

        if (parent.Children!.TryGetValue(newName, out var existing) && !ReferenceEquals(existing, fcb))
        {
            if (!replaceIfExists) return NtStatus.STATUS_OBJECT_NAME_COLLISION;
            if (existing.IsDirectory || existing.HandleCount > 0) return NtStatus.STATUS_ACCESS_DENIED;
            volume.Unlink(existing);
            volume.Free(existing);
        }
        fcb.Parent.Children!.Remove(fcb.Name);
        fcb.Parent.LastWriteTime = fcb.Parent.ChangeTime = RamFsVolume.Now();
        fcb.Parent = parent;
        fcb.Name = newName;
        parent.Children.Add(newName, fcb);
        parent.LastWriteTime = parent.ChangeTime = fcb.ChangeTime = RamFsVolume.Now();
        return NtStatus.STATUS_SUCCESS;
    }

    private static bool HasOpenDescendant(RamFsFcb directory)
    {
        foreach (var child in directory.Children!.Values)
            if (child.HandleCount > 0 || (child.IsDirectory && HasOpenDescendant(child))) return true;
        return false;
    }
}
