using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// IRP_MJ_CREATE: the name walked to its FCB, every creation disposition with the IOSB Information
/// Windows reports, the directory / non-directory options, share access and delete-pending files,
/// following FastFAT's create.c where NTFS and FAT agree. An open attaches the FCB (FsContext,
/// shared by every open of the file) and a new CCB (FsContext2) to the file object.
/// </summary>
internal static class RamFsCreate
{
    /// <summary>The attributes a caller can give a file (the rest are the file system's to report).</summary>
    private const FileAttributeFlags Settable = FileAttributeFlags.FILE_ATTRIBUTE_READONLY | FileAttributeFlags.FILE_ATTRIBUTE_HIDDEN
        | FileAttributeFlags.FILE_ATTRIBUTE_SYSTEM | FileAttributeFlags.FILE_ATTRIBUTE_ARCHIVE | FileAttributeFlags.FILE_ATTRIBUTE_TEMPORARY
        | FileAttributeFlags.FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;

    public static NtStatus Open(RamFsVolume volume, FileObject file, in CreateParameters create, out long information)
    {
        information = 0;
        var request = new Request(create);
        // IoCreateFile's own rules: delete on close needs DELETE; a directory is only ever created or opened.
        if (request.DeleteOnClose && (create.DesiredAccess & AccessMask.DELETE) == 0) return NtStatus.STATUS_INVALID_PARAMETER;
        if (request.DirectoryFile && create.Disposition is not (CreateDisposition.FILE_CREATE or CreateDisposition.FILE_OPEN or CreateDisposition.FILE_OPEN_IF))
            return NtStatus.STATUS_INVALID_PARAMETER;
        var status = RamFsNames.Parse(file.FileName, out var parts, out var trailingBackslash);
        if (!status.IsSuccess) return status;

        lock (volume.Sync)
        {
            if (file.FileName.Length == 0) return OpenVolume(volume.VolumeFcb, file, request, out information);
            if (parts.Length == 0) return OpenRoot(volume.Root, file, request, out information);
            status = volume.FindParent(parts, out var parent);
            if (!status.IsSuccess) return status;
            var name = parts[^1];
            return parent.Children!.TryGetValue(name, out var existing)
                ? OpenExisting(volume, existing, file, request, trailingBackslash, out information)
                : CreateNew(volume, parent, name, file, request, trailingBackslash, out information);
        }
    }

    private static NtStatus OpenVolume(RamFsFcb fcb, FileObject file, in Request request, out long information)
    {
        information = 0;
        if (request.Disposition is not (CreateDisposition.FILE_OPEN or CreateDisposition.FILE_OPEN_IF)) return NtStatus.STATUS_ACCESS_DENIED;
        if (request.DirectoryFile) return NtStatus.STATUS_NOT_A_DIRECTORY;
        if (request.DeleteOnClose) return NtStatus.STATUS_CANNOT_DELETE;
        return Attach(fcb, file, request, CreateInformation.FILE_OPENED, out information);
    }

    /// <summary>FastFAT's FatOpenRootDcb: the root only opens, and cannot be deleted.</summary>
    private static NtStatus OpenRoot(RamFsFcb root, FileObject file, in Request request, out long information)
    {
        information = 0;
        if (request.NonDirectoryFile) return NtStatus.STATUS_FILE_IS_A_DIRECTORY;
        if (request.Disposition is not (CreateDisposition.FILE_OPEN or CreateDisposition.FILE_OPEN_IF)) return NtStatus.STATUS_ACCESS_DENIED;
        if (request.DeleteOnClose) return NtStatus.STATUS_CANNOT_DELETE;
        return Attach(root, file, request, CreateInformation.FILE_OPENED, out information);
    }

    private static NtStatus OpenExisting(RamFsVolume volume, RamFsFcb fcb, FileObject file, in Request request, bool trailingBackslash, out long information)
    {
        information = 0;
        if (fcb.DeletePending) return NtStatus.STATUS_DELETE_PENDING;
        if (request.Disposition == CreateDisposition.FILE_CREATE)
        {
            information = (long)CreateInformation.FILE_EXISTS;
            return NtStatus.STATUS_OBJECT_NAME_COLLISION;
        }
        if (fcb.IsDirectory)
        {
            if (request.NonDirectoryFile) return NtStatus.STATUS_FILE_IS_A_DIRECTORY;
            // A directory is never overwritten or superseded.
            if (request.Disposition is not (CreateDisposition.FILE_OPEN or CreateDisposition.FILE_OPEN_IF)) return NtStatus.STATUS_OBJECT_NAME_COLLISION;
        }
        else
        {
            if (request.DirectoryFile) return NtStatus.STATUS_NOT_A_DIRECTORY;
            if (trailingBackslash) return NtStatus.STATUS_OBJECT_NAME_INVALID;
        }

        var replaces = request.Disposition is CreateDisposition.FILE_SUPERSEDE or CreateDisposition.FILE_OVERWRITE or CreateDisposition.FILE_OVERWRITE_IF;
        if ((fcb.Attributes & FileAttributeFlags.FILE_ATTRIBUTE_READONLY) != 0)
        {
            if (request.DeleteOnClose) return NtStatus.STATUS_CANNOT_DELETE;
            if (replaces || (request.DesiredAccess & (AccessMask.FILE_WRITE_DATA | AccessMask.FILE_APPEND_DATA)) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        }
        // Replacing the data is writing it (superseding, deleting it), and the sharing check says so.
        var access = request.DesiredAccess
            | (request.Disposition == CreateDisposition.FILE_SUPERSEDE ? AccessMask.DELETE : replaces ? AccessMask.FILE_WRITE_DATA : 0);
        var status = Io.CheckShareAccess(access, request.ShareAccess, file, fcb.ShareAccess, update: false);
        if (!status.IsSuccess) return status;

        var outcome = CreateInformation.FILE_OPENED;
        if (replaces)
        {
            volume.Resize(fcb, 0);
            fcb.Attributes = (request.Attributes & Settable) | FileAttributeFlags.FILE_ATTRIBUTE_ARCHIVE;
            fcb.LastWriteTime = fcb.ChangeTime = fcb.LastAccessTime = RamFsVolume.Now();
            outcome = request.Disposition == CreateDisposition.FILE_SUPERSEDE ? CreateInformation.FILE_SUPERSEDED : CreateInformation.FILE_OVERWRITTEN;
        }
        Io.UpdateShareAccess(file, fcb.ShareAccess);
        Link(fcb, file, request.DeleteOnClose);
        information = (long)outcome;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus CreateNew(RamFsVolume volume, RamFsFcb parent, string name, FileObject file, in Request request, bool trailingBackslash,
        out long information)
    {
        information = 0;
        if (request.Disposition is CreateDisposition.FILE_OPEN or CreateDisposition.FILE_OVERWRITE) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
        if (trailingBackslash && !request.DirectoryFile) return NtStatus.STATUS_OBJECT_NAME_INVALID;
        if (parent.DeletePending) return NtStatus.STATUS_DELETE_PENDING;
        var attributes = request.Attributes & Settable;
        if (!request.DirectoryFile) attributes |= FileAttributeFlags.FILE_ATTRIBUTE_ARCHIVE;
        var status = volume.Add(parent, name, request.DirectoryFile, attributes, out var fcb);
        if (!status.IsSuccess) return status;
        Io.SetShareAccess(request.DesiredAccess, request.ShareAccess, file, fcb!.ShareAccess);
        Link(fcb, file, request.DeleteOnClose);
        information = (long)CreateInformation.FILE_CREATED;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>An open of a file that is already there and only opens (the root, the volume): share access, then the link.</summary>
    private static NtStatus Attach(RamFsFcb fcb, FileObject file, in Request request, CreateInformation outcome, out long information)
    {
        information = 0;
        var status = Io.CheckShareAccess(request.DesiredAccess, request.ShareAccess, file, fcb.ShareAccess, update: true);
        if (!status.IsSuccess) return status;
        Link(fcb, file, request.DeleteOnClose);
        information = (long)outcome;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The FsContext contract: the FCB shared by every open of the file, a CCB of this open's own.</summary>
    private static void Link(RamFsFcb fcb, FileObject file, bool deleteOnClose)
    {
        file.FsContext = fcb;
        file.FsContext2 = new RamFsCcb { DeleteOnClose = deleteOnClose };
        fcb.HandleCount++;
        fcb.ReferenceCount++;
    }

    /// <summary>What IRP_MJ_CREATE asks, decoded once.</summary>
    private readonly struct Request(in CreateParameters create)
    {
        public uint DesiredAccess { get; } = create.DesiredAccess;
        public ShareAccess ShareAccess { get; } = create.ShareAccess;
        public CreateDisposition Disposition { get; } = create.Disposition;
        public FileAttributeFlags Attributes { get; } = (FileAttributeFlags)create.FileAttributes;
        public bool DirectoryFile { get; } = (create.Options & CreateOptions.FILE_DIRECTORY_FILE) != 0;
        public bool NonDirectoryFile { get; } = (create.Options & CreateOptions.FILE_NON_DIRECTORY_FILE) != 0;
        public bool DeleteOnClose { get; } = (create.Options & CreateOptions.FILE_DELETE_ON_CLOSE) != 0;
    }
}
