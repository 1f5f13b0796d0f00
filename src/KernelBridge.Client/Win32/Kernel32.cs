using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>
/// The Win32 face: BOOL-and-last-error functions with kernelbase's behaviour on top of
/// <see cref="Ntdll"/>. The last error is per thread.
/// </summary>
public static unsafe partial class Kernel32
{
    public static readonly nint INVALID_HANDLE_VALUE = -1;

    [ThreadStatic] private static uint _lastError;

    public static uint GetLastError() => _lastError;

    public static void SetLastError(uint error) => _lastError = error;

    public static void SetLastError(Win32Error error) => _lastError = (uint)error;

    /// <summary>Sets the last error from a status (RtlNtStatusToDosError) and returns FALSE.</summary>
    private static bool Fail(NtStatus status)
    {
        _lastError = (uint)StatusMapping.RtlNtStatusToDosError(status);
        return false;
    }

    public static nint GetCurrentProcess() => PseudoHandles.CurrentProcess;

    public static nint GetCurrentThread() => PseudoHandles.CurrentThread;

    /// <summary>
    /// CreateFile. \\.\NAME and \\?\NAME become \??\NAME, and NUL is \??\NUL; other paths name no
    /// device here (ERROR_PATH_NOT_FOUND). Without FILE_FLAG_OVERLAPPED the handle is synchronous.
    /// </summary>
    public static nint CreateFile(string fileName, uint desiredAccess, uint shareMode, nint securityAttributes,
        CreationDisposition creationDisposition, uint flagsAndAttributes, nint templateFile)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        _ = securityAttributes;
        _ = templateFile;
        if (fileName.Length == 0)
        {
            SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            return INVALID_HANDLE_VALUE;
        }
        var ntName = DosPathToNtPath(fileName);
        if (ntName is null)
        {
            SetLastError(Win32Error.ERROR_PATH_NOT_FOUND);
            return INVALID_HANDLE_VALUE;
        }
        CreateDisposition disposition;
        switch (creationDisposition)
        {
            case CreationDisposition.CREATE_NEW: disposition = CreateDisposition.FILE_CREATE; break;
            case CreationDisposition.CREATE_ALWAYS: disposition = CreateDisposition.FILE_OVERWRITE_IF; break;
            case CreationDisposition.OPEN_EXISTING: disposition = CreateDisposition.FILE_OPEN; break;
            case CreationDisposition.OPEN_ALWAYS: disposition = CreateDisposition.FILE_OPEN_IF; break;
            case CreationDisposition.TRUNCATE_EXISTING: disposition = CreateDisposition.FILE_OVERWRITE; break;
            default:
                SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
                return INVALID_HANDLE_VALUE;
        }
        var flags = (FileFlags)flagsAndAttributes;
        // Backup semantics may open a directory; otherwise CreateFile opens files only.
        var options = (flags & FileFlags.FILE_FLAG_BACKUP_SEMANTICS) != 0 ? CreateOptions.FILE_OPEN_FOR_BACKUP_INTENT : CreateOptions.FILE_NON_DIRECTORY_FILE;
        if ((flags & FileFlags.FILE_FLAG_DELETE_ON_CLOSE) != 0)
        {
            options |= CreateOptions.FILE_DELETE_ON_CLOSE;
            desiredAccess |= AccessMask.DELETE;
        }
        if ((flags & FileFlags.FILE_FLAG_OVERLAPPED) == 0) options |= CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT;
        if ((flags & FileFlags.FILE_FLAG_WRITE_THROUGH) != 0) options |= CreateOptions.FILE_WRITE_THROUGH;
        if ((flags & FileFlags.FILE_FLAG_NO_BUFFERING) != 0) options |= CreateOptions.FILE_NO_INTERMEDIATE_BUFFERING;

        nint handle;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(&handle, desiredAccess | AccessMask.SYNCHRONIZE | AccessMask.FILE_READ_ATTRIBUTES,
            new ObjectAttributes(ntName), &iosb, flagsAndAttributes & 0xFFFF, (ShareAccess)shareMode, disposition, options);
        if (!status.IsSuccess)
        {
            // kernelbase: a name that is taken is ERROR_FILE_EXISTS here, not RtlNtStatusToDosError's ERROR_ALREADY_EXISTS.
            if (status == NtStatus.STATUS_OBJECT_NAME_COLLISION) SetLastError(Win32Error.ERROR_FILE_EXISTS);
            else Fail(status);
            return INVALID_HANDLE_VALUE;
        }
        var existed = iosb.Information is (nuint)CreateInformation.FILE_OPENED or (nuint)CreateInformation.FILE_OVERWRITTEN;
        SetLastError(existed && creationDisposition is CreationDisposition.OPEN_ALWAYS or CreationDisposition.CREATE_ALWAYS
            ? Win32Error.ERROR_ALREADY_EXISTS : Win32Error.ERROR_SUCCESS);
        return handle;
    }

    /// <summary>RtlDosPathNameToNtPathName_U for the names that reach devices.</summary>
    public static string? DosPathToNtPath(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith(@"\\.\", StringComparison.Ordinal) || name.StartsWith(@"\\?\", StringComparison.Ordinal)) return @"\??\" + name[4..];
        if (name.StartsWith(@"\??\", StringComparison.Ordinal)) return name;
        if (string.Equals(name, "NUL", StringComparison.OrdinalIgnoreCase)) return @"\??\NUL";
        return null;
    }

    public static bool CloseHandle(nint handle)
    {
        var status = Ntdll.NtClose(handle);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>DuplicateHandle (DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS).</summary>
    public static bool DuplicateHandle(nint sourceProcessHandle, nint sourceHandle, nint targetProcessHandle, out nint targetHandle,
        uint desiredAccess, bool inheritHandle, DuplicateOptions options)
    {
        nint target = 0;
        var attributes = inheritHandle ? (uint)ObjectAttributeFlags.OBJ_INHERIT : 0;
        var status = Ntdll.NtDuplicateObject(sourceProcessHandle, sourceHandle, targetProcessHandle, &target, desiredAccess, attributes,
            options & (DuplicateOptions.DUPLICATE_CLOSE_SOURCE | DuplicateOptions.DUPLICATE_SAME_ACCESS));
        targetHandle = target;
        return status.IsSuccess || Fail(status);
    }
}
