using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>FILE_INFO_BY_HANDLE_CLASS values SetFileInformationByHandle takes here.</summary>
public enum FileInfoByHandleClass : uint
{
    FileBasicInfo = 0,
    FileAllocationInfo = 5,
    FileDispositionInfo = 4,
    FileEndOfFileInfo = 6,
    FileDispositionInfoEx = 21,
}

/// <summary>The files-and-directories part of the Win32 face, with kernelbase's mapping onto the Nt calls.</summary>
public static unsafe partial class Kernel32
{
    public const uint FILE_BEGIN = 0;
    public const uint FILE_CURRENT = 1;
    public const uint FILE_END = 2;

    private const ShareAccess ShareEverything = ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE;
    private const CreateOptions FILE_OPEN_FOR_BACKUP_INTENT = CreateOptions.FILE_OPEN_FOR_BACKUP_INTENT;

    /// <summary>
    /// FindFirstFile: the directory part of <paramref name="fileName"/> opened for listing, its last
    /// part the pattern ("*.*" is "*"; '?', and '*' or '.' before a '.' or wildcard, become the DOS
    /// wildcards as kernelbase does). No match is ERROR_FILE_NOT_FOUND; a missing directory ERROR_PATH_NOT_FOUND.
    /// </summary>
    public static nint FindFirstFile(string fileName, WIN32_FIND_DATA findData)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(findData);
        var ntName = DosPathToNtPath(fileName);
        var split = ntName?.LastIndexOf('\\') ?? -1;
        if (ntName is null || split < 4)
        {
            SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            return INVALID_HANDLE_VALUE;
        }
        var mask = ntName[(split + 1)..];
        if (mask.Length == 0)
        {
            SetLastError(Win32Error.ERROR_FILE_NOT_FOUND);
            return INVALID_HANDLE_VALUE;
        }
        nint directory;
        IO_STATUS_BLOCK iosb = default;
        // The directory keeps its backslash, so a device's root is its root directory (not the volume).
        var status = Ntdll.NtCreateFile(&directory, AccessMask.FILE_LIST_DIRECTORY | AccessMask.SYNCHRONIZE, new ObjectAttributes(ntName[..(split + 1)]), &iosb,
            0, ShareEverything, CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_DIRECTORY_FILE | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_FOR_BACKUP_INTENT);
        if (!status.IsSuccess)
        {
            if (status == NtStatus.STATUS_OBJECT_NAME_NOT_FOUND) SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            else Fail(status);
            return INVALID_HANDLE_VALUE;
        }
        var state = new FindFileState(directory);
        status = state.Next(DosPattern(mask), findData);
        if (!status.IsSuccess)
        {
            Ntdll.NtClose(directory);
            if (status == NtStatus.STATUS_NO_MORE_FILES || status == NtStatus.STATUS_NO_SUCH_FILE) SetLastError(Win32Error.ERROR_FILE_NOT_FOUND);
            else Fail(status);
            return INVALID_HANDLE_VALUE;
        }
        SetLastError(Win32Error.ERROR_SUCCESS);
        return state.Register();
    }

    /// <summary>FindNextFile: the next entry; ERROR_NO_MORE_FILES at the end.</summary>
    public static bool FindNextFile(nint findFile, WIN32_FIND_DATA findData)
    {
        ArgumentNullException.ThrowIfNull(findData);
        if (FindFileState.Lookup(findFile) is not { } state)
        {
            SetLastError(Win32Error.ERROR_INVALID_HANDLE);
            return false;
        }
        var status = state.Next(null, findData);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>FindClose: the find handle and its directory handle go.</summary>
    public static bool FindClose(nint findFile)
    {
        if (FindFileState.Remove(findFile) is not { } state)
        {
            SetLastError(Win32Error.ERROR_INVALID_HANDLE);
            return false;
        }
        Ntdll.NtClose(state.Directory);
        return true;
    }

    /// <summary>kernelbase's translation of a Win32 pattern into the file system's DOS wildcards.</summary>
    internal static string DosPattern(string mask)
    {
        if (mask == "*.*") return "*";
        var chars = mask.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var next = i + 1 < chars.Length ? chars[i + 1] : '\0';
            if (chars[i] == '?') chars[i] = '>';
            else if (chars[i] == '.' && next is '?' or '*') chars[i] = '"';
            else if (chars[i] == '*' && next == '.') chars[i] = '<';
        }
        return new string(chars);
    }

    /// <summary>DeleteFile: an open for DELETE with FILE_DELETE_ON_CLOSE, closed at once. A directory is ERROR_ACCESS_DENIED.</summary>
    public static bool DeleteFile(string fileName) =>
        OpenAndClose(fileName, AccessMask.DELETE, CreateOptions.FILE_NON_DIRECTORY_FILE | CreateOptions.FILE_DELETE_ON_CLOSE, CreateDisposition.FILE_OPEN);

    /// <summary>CreateDirectory: FILE_CREATE of a directory; one that exists is ERROR_ALREADY_EXISTS.</summary>
    public static bool CreateDirectory(string pathName, nint securityAttributes)
    {
        _ = securityAttributes;
        return OpenAndClose(pathName, AccessMask.FILE_LIST_DIRECTORY, CreateOptions.FILE_DIRECTORY_FILE | FILE_OPEN_FOR_BACKUP_INTENT,
            CreateDisposition.FILE_CREATE);
    }

    /// <summary>RemoveDirectory: open the directory for DELETE and mark it (ERROR_DIR_NOT_EMPTY if it is not empty); it goes at the close.</summary>
    public static bool RemoveDirectory(string pathName)
    {
        var handle = OpenForPath(pathName, AccessMask.DELETE, CreateOptions.FILE_DIRECTORY_FILE | FILE_OPEN_FOR_BACKUP_INTENT, CreateDisposition.FILE_OPEN);
        if (handle == 0) return false;
        byte delete = 1;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtSetInformationFile(handle, &iosb, &delete, 1, FileInformationClass.FileDispositionInformation);
        Ntdll.NtClose(handle);
        return status.IsSuccess || Fail(status);
    }

    private static bool OpenAndClose(string path, uint access, CreateOptions options, CreateDisposition disposition)
    {
        var handle = OpenForPath(path, access, options, disposition);
        if (handle == 0) return false;
        Ntdll.NtClose(handle);
        return true;
    }

    /// <summary>A synchronous open of a Win32 path sharing everything; 0 with the last error set on failure.</summary>
    private static nint OpenForPath(string path, uint access, CreateOptions options, CreateDisposition disposition)
    {
        ArgumentNullException.ThrowIfNull(path);
        var ntName = DosPathToNtPath(path);
        if (ntName is null)
        {
            SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            return 0;
        }
        nint handle;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(&handle, access | AccessMask.SYNCHRONIZE, new ObjectAttributes(ntName), &iosb, 0, ShareEverything, disposition,
            options | CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT);
        if (status.IsSuccess) return handle;
        Fail(status);
        return 0;
    }

    public const uint MOVEFILE_REPLACE_EXISTING = 0x1;

    /// <summary>MoveFile: MoveFileEx without replacing.</summary>
    public static bool MoveFile(string existingFileName, string newFileName) => MoveFileEx(existingFileName, newFileName, 0);

    /// <summary>
    /// MoveFileEx within a volume: the file (or directory) opened for DELETE and renamed with
    /// FileRenameInformation to the new name's NT path. A target that exists is ERROR_ALREADY_EXISTS
    /// unless MOVEFILE_REPLACE_EXISTING; another device is ERROR_NOT_SAME_DEVICE (no copying here).
    /// </summary>
    public static bool MoveFileEx(string existingFileName, string newFileName, uint flags)
    {
        ArgumentNullException.ThrowIfNull(newFileName);
        var target = DosPathToNtPath(newFileName);
        if (target is null)
        {
            SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            return false;
        }
        var handle = OpenForPath(existingFileName, AccessMask.DELETE, FILE_OPEN_FOR_BACKUP_INTENT, CreateDisposition.FILE_OPEN);
        if (handle == 0) return false;
        // FILE_RENAME_INFORMATION (x64): ReplaceIfExists, RootDirectory, FileNameLength, FileName.
        var information = new byte[20 + target.Length * 2];
        information[0] = (flags & MOVEFILE_REPLACE_EXISTING) != 0 ? (byte)1 : (byte)0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(information.AsSpan(16), target.Length * 2);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(target.AsSpan()).CopyTo(information.AsSpan(20));
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* pointer = information)
            status = Ntdll.NtSetInformationFile(handle, &iosb, pointer, (uint)information.Length, FileInformationClass.FileRenameInformation);
        Ntdll.NtClose(handle);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>GetFileSizeEx: FileStandardInformation's EndOfFile.</summary>
    public static bool GetFileSizeEx(nint file, out long fileSize)
    {
        fileSize = 0;
        var standard = stackalloc byte[24];
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtQueryInformationFile(file, &iosb, standard, 24, FileInformationClass.FileStandardInformation);
        if (!status.IsSuccess) return Fail(status);
        fileSize = *(long*)(standard + 8);
        return true;
    }

    /// <summary>SetFilePointerEx: FILE_BEGIN, FILE_CURRENT or FILE_END; a position before the start is ERROR_NEGATIVE_SEEK.</summary>
    public static bool SetFilePointerEx(nint file, long distanceToMove, out long newFilePointer, uint moveMethod)
    {
        newFilePointer = 0;
        long origin = 0;
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        switch (moveMethod)
        {
            case FILE_BEGIN:
                break;
            case FILE_CURRENT:
                status = Ntdll.NtQueryInformationFile(file, &iosb, &origin, 8, FileInformationClass.FilePositionInformation);
                if (!status.IsSuccess) return Fail(status);
                break;
            case FILE_END:
                if (!GetFileSizeEx(file, out origin)) return false;
                break;
            default:
                SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
                return false;
        }
        var position = origin + distanceToMove;
        if (position < 0)
        {
            SetLastError(Win32Error.ERROR_NEGATIVE_SEEK);
            return false;
        }
        status = Ntdll.NtSetInformationFile(file, &iosb, &position, 8, FileInformationClass.FilePositionInformation);
        if (!status.IsSuccess) return Fail(status);
        newFilePointer = position;
        return true;
    }

    /// <summary>SetEndOfFile: the end of file moves to the current position.</summary>
    public static bool SetEndOfFile(nint file)
    {
        long position = 0;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtQueryInformationFile(file, &iosb, &position, 8, FileInformationClass.FilePositionInformation);
        if (!status.IsSuccess) return Fail(status);
        status = Ntdll.NtSetInformationFile(file, &iosb, &position, 8, FileInformationClass.FileEndOfFileInformation);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>SetFileInformationByHandle for the classes that map one to one onto NtSetInformationFile's.</summary>
    public static bool SetFileInformationByHandle(nint file, FileInfoByHandleClass informationClass, void* information, uint size)
    {
        FileInformationClass ntClass;
        switch (informationClass)
        {
            case FileInfoByHandleClass.FileBasicInfo: ntClass = FileInformationClass.FileBasicInformation; break;
            case FileInfoByHandleClass.FileAllocationInfo: ntClass = FileInformationClass.FileAllocationInformation; break;
            case FileInfoByHandleClass.FileDispositionInfo: ntClass = FileInformationClass.FileDispositionInformation; break;
            case FileInfoByHandleClass.FileEndOfFileInfo: ntClass = FileInformationClass.FileEndOfFileInformation; break;
            case FileInfoByHandleClass.FileDispositionInfoEx: ntClass = FileInformationClass.FileDispositionInformationEx; break;
            default:
                SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
                return false;
        }
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtSetInformationFile(file, &iosb, information, size, ntClass);
        return status.IsSuccess || Fail(status);
    }
}
