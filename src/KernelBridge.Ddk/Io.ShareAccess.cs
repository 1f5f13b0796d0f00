using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The share-access helpers, with Windows' rules (IoCheckShareAccess and friends): only opens
/// that ask for data access (read or execute, write or append, delete) take part; such an open
/// conflicts when it wants an access that some earlier open does not share, or refuses to share an
/// access some earlier open holds.
/// </summary>
public static partial class Io
{
    private const uint ReadRights = AccessMask.FILE_READ_DATA | AccessMask.FILE_EXECUTE;
    private const uint WriteRights = AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA;

    /// <summary>
    /// IoCheckShareAccess: records on <paramref name="fileObject"/> the accesses
    /// <paramref name="desiredAccess"/> takes and those <paramref name="desiredShareAccess"/> shares,
    /// then STATUS_SHARING_VIOLATION if they conflict with <paramref name="shareAccess"/>; with
    /// <paramref name="update"/>, a success also counts the open in.
    /// </summary>
    public static NtStatus CheckShareAccess(uint desiredAccess, ShareAccess desiredShareAccess, FileObject fileObject, SHARE_ACCESS shareAccess, bool update)
    {
        ArgumentNullException.ThrowIfNull(fileObject);
        ArgumentNullException.ThrowIfNull(shareAccess);
        var read = (desiredAccess & ReadRights) != 0;
        var write = (desiredAccess & WriteRights) != 0;
        var delete = (desiredAccess & AccessMask.DELETE) != 0;
        fileObject.ReadAccess = read;
        fileObject.WriteAccess = write;
        fileObject.DeleteAccess = delete;
        if (!read && !write && !delete) return NtStatus.STATUS_SUCCESS;

        var sharedRead = (desiredShareAccess & ShareAccess.FILE_SHARE_READ) != 0;
        var sharedWrite = (desiredShareAccess & ShareAccess.FILE_SHARE_WRITE) != 0;
        var sharedDelete = (desiredShareAccess & ShareAccess.FILE_SHARE_DELETE) != 0;
        fileObject.SharedRead = sharedRead;
        fileObject.SharedWrite = sharedWrite;
        fileObject.SharedDelete = sharedDelete;
        if ((read && shareAccess.SharedRead < shareAccess.OpenCount)
            || (write && shareAccess.SharedWrite < shareAccess.OpenCount)
            || (delete && shareAccess.SharedDelete < shareAccess.OpenCount)
            || (shareAccess.Readers != 0 && !sharedRead)
            || (shareAccess.Writers != 0 && !sharedWrite)
            || (shareAccess.Deleters != 0 && !sharedDelete))
            return NtStatus.STATUS_SHARING_VIOLATION;
        if (update) Count(fileObject, shareAccess, +1);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>IoSetShareAccess: the first open of a file; <paramref name="shareAccess"/> starts over with this open alone.</summary>
    public static void SetShareAccess(uint desiredAccess, ShareAccess desiredShareAccess, FileObject fileObject, SHARE_ACCESS shareAccess)
    {
        ArgumentNullException.ThrowIfNull(fileObject);
        ArgumentNullException.ThrowIfNull(shareAccess);
        fileObject.ReadAccess = (desiredAccess & ReadRights) != 0;
        fileObject.WriteAccess = (desiredAccess & WriteRights) != 0;
        fileObject.DeleteAccess = (desiredAccess & AccessMask.DELETE) != 0;
        fileObject.SharedRead = (desiredShareAccess & ShareAccess.FILE_SHARE_READ) != 0;
        fileObject.SharedWrite = (desiredShareAccess & ShareAccess.FILE_SHARE_WRITE) != 0;
        fileObject.SharedDelete = (desiredShareAccess & ShareAccess.FILE_SHARE_DELETE) != 0;
        shareAccess.OpenCount = shareAccess.Readers = shareAccess.Writers = shareAccess.Deleters = 0;
        shareAccess.SharedRead = shareAccess.SharedWrite = shareAccess.SharedDelete = 0;
        Count(fileObject, shareAccess, +1);
    }

    /// <summary>IoUpdateShareAccess: counts in an open that <see cref="CheckShareAccess"/> (without update) accepted.</summary>
    public static void UpdateShareAccess(FileObject fileObject, SHARE_ACCESS shareAccess)
    {
        ArgumentNullException.ThrowIfNull(fileObject);
        ArgumentNullException.ThrowIfNull(shareAccess);
        Count(fileObject, shareAccess, +1);
    }

    /// <summary>IoRemoveShareAccess: the open's cleanup takes it out again.</summary>
    public static void RemoveShareAccess(FileObject fileObject, SHARE_ACCESS shareAccess)
    {
        ArgumentNullException.ThrowIfNull(fileObject);
        ArgumentNullException.ThrowIfNull(shareAccess);
        Count(fileObject, shareAccess, -1);
    }

    /// <summary>Adds (or takes out) one open as its file object records it; an open without data access is not counted.</summary>
    private static void Count(FileObject fileObject, SHARE_ACCESS shareAccess, int sign)
    {
        if (!fileObject.ReadAccess && !fileObject.WriteAccess && !fileObject.DeleteAccess) return;
        shareAccess.OpenCount += sign;
        if (fileObject.ReadAccess) shareAccess.Readers += sign;
        if (fileObject.WriteAccess) shareAccess.Writers += sign;
        if (fileObject.DeleteAccess) shareAccess.Deleters += sign;
        if (fileObject.SharedRead) shareAccess.SharedRead += sign;
        if (fileObject.SharedWrite) shareAccess.SharedWrite += sign;
        if (fileObject.SharedDelete) shareAccess.SharedDelete += sign;
    }
}
