namespace KernelBridge.Abi;

/// <summary>NtCreateFile CreateDisposition values.</summary>
public enum CreateDisposition : uint
{
    FILE_SUPERSEDE = 0,
    FILE_OPEN = 1,
    FILE_CREATE = 2,
    FILE_OPEN_IF = 3,
    FILE_OVERWRITE = 4,
    FILE_OVERWRITE_IF = 5,
}

/// <summary>Win32 CreateFile dwCreationDisposition values.</summary>
public enum CreationDisposition : uint
{
    CREATE_NEW = 1,
    CREATE_ALWAYS = 2,
    OPEN_EXISTING = 3,
    OPEN_ALWAYS = 4,
    TRUNCATE_EXISTING = 5,
}

/// <summary>NtCreateFile CreateOptions bits.</summary>
[Flags]
public enum CreateOptions : uint
{
    None = 0,
    FILE_DIRECTORY_FILE = 0x00000001,
    FILE_WRITE_THROUGH = 0x00000002,
    FILE_SEQUENTIAL_ONLY = 0x00000004,
    FILE_NO_INTERMEDIATE_BUFFERING = 0x00000008,
    FILE_SYNCHRONOUS_IO_ALERT = 0x00000010,
    FILE_SYNCHRONOUS_IO_NONALERT = 0x00000020,
    FILE_NON_DIRECTORY_FILE = 0x00000040,
    FILE_DELETE_ON_CLOSE = 0x00001000,
    FILE_OPEN_FOR_BACKUP_INTENT = 0x00004000,
}

/// <summary>Share access bits.</summary>
[Flags]
public enum ShareAccess : uint
{
    None = 0,
    FILE_SHARE_READ = 1,
    FILE_SHARE_WRITE = 2,
    FILE_SHARE_DELETE = 4,
}

/// <summary>OBJECT_ATTRIBUTES.Attributes bits.</summary>
[Flags]
public enum ObjectAttributeFlags : uint
{
    None = 0,
    OBJ_INHERIT = 0x00000002,
    OBJ_PERMANENT = 0x00000010,
    OBJ_EXCLUSIVE = 0x00000020,
    OBJ_CASE_INSENSITIVE = 0x00000040,
    OBJ_OPENIF = 0x00000080,
    OBJ_OPENLINK = 0x00000100,
    OBJ_KERNEL_HANDLE = 0x00000200,
}

/// <summary>IO_STATUS_BLOCK.Information values a create reports.</summary>
public enum CreateInformation : uint
{
    FILE_SUPERSEDED = 0,
    FILE_OPENED = 1,
    FILE_CREATED = 2,
    FILE_OVERWRITTEN = 3,
    FILE_EXISTS = 4,
    FILE_DOES_NOT_EXIST = 5,
}

/// <summary>FILE_INFORMATION_CLASS values KernelBridge knows.</summary>
public enum FileInformationClass : uint
{
    FileDirectoryInformation = 1,
    FileFullDirectoryInformation = 2,
    FileBothDirectoryInformation = 3,
    FileBasicInformation = 4,
    FileStandardInformation = 5,
    FileInternalInformation = 6,
    FileEaInformation = 7,
    FileAccessInformation = 8,
    FileNameInformation = 9,
    FileRenameInformation = 10,
    FileNamesInformation = 12,
    FileDispositionInformation = 13,
    FilePositionInformation = 14,
    FileModeInformation = 16,
    FileAlignmentInformation = 17,
    FileAllInformation = 18,
    FileAllocationInformation = 19,
    FileEndOfFileInformation = 20,
    FileObjectIdInformation = 29,
    FileCompletionInformation = 30,
    FileQuotaInformation = 32,
    FileReparsePointInformation = 33,
    FileIdBothDirectoryInformation = 37,
    FileIdFullDirectoryInformation = 38,
    FileIoCompletionNotificationInformation = 41,
    FileDispositionInformationEx = 64,
    FileMaximumInformation = 76,
}

/// <summary>
/// FS_INFORMATION_CLASS: what NtQueryVolumeInformationFile and NtSetVolumeInformationFile ask
/// about, with Windows' numbers. The I/O manager knows the classes of the WRK's tables (1 to 9);
/// later ones are STATUS_INVALID_INFO_CLASS here.
/// </summary>
public enum FsInformationClass : uint
{
    FileFsVolumeInformation = 1,
    FileFsLabelInformation = 2,
    FileFsSizeInformation = 3,
    FileFsDeviceInformation = 4,
    FileFsAttributeInformation = 5,
    FileFsControlInformation = 6,
    FileFsFullSizeInformation = 7,
    FileFsObjectIdInformation = 8,
    FileFsDriverPathInformation = 9,
}

/// <summary>OBJECT_INFORMATION_CLASS values for NtQueryObject.</summary>
public enum ObjectInformationClass : uint
{
    ObjectBasicInformation = 0,
    ObjectNameInformation = 1,
    ObjectTypeInformation = 2,
    ObjectTypesInformation = 3,
    ObjectHandleFlagInformation = 4,
}

/// <summary>NtDuplicateObject Options bits.</summary>
[Flags]
public enum DuplicateOptions : uint
{
    None = 0,
    DUPLICATE_CLOSE_SOURCE = 1,
    DUPLICATE_SAME_ACCESS = 2,
    DUPLICATE_SAME_ATTRIBUTES = 4,
}

/// <summary>Win32 CreateFile dwFlagsAndAttributes bits KernelBridge honours.</summary>
[Flags]
public enum FileFlags : uint
{
    None = 0,
    FILE_ATTRIBUTE_NORMAL = 0x00000080,
    FILE_FLAG_OVERLAPPED = 0x40000000,
    FILE_FLAG_NO_BUFFERING = 0x20000000,
    FILE_FLAG_WRITE_THROUGH = 0x80000000,
    FILE_FLAG_BACKUP_SEMANTICS = 0x02000000,
    FILE_FLAG_DELETE_ON_CLOSE = 0x04000000,
}
