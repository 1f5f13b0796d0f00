namespace KernelBridge.Abi;

/// <summary>ACCESS_MASK bits with Windows' values: standard, generic and per-type specific rights.</summary>
public static class AccessMask
{
    // Standard rights.
    public const uint DELETE = 0x00010000;
    public const uint READ_CONTROL = 0x00020000;
    public const uint WRITE_DAC = 0x00040000;
    public const uint WRITE_OWNER = 0x00080000;
    public const uint SYNCHRONIZE = 0x00100000;
    public const uint STANDARD_RIGHTS_REQUIRED = 0x000F0000;
    public const uint STANDARD_RIGHTS_READ = READ_CONTROL;
    public const uint STANDARD_RIGHTS_WRITE = READ_CONTROL;
    public const uint STANDARD_RIGHTS_EXECUTE = READ_CONTROL;
    public const uint STANDARD_RIGHTS_ALL = 0x001F0000;
    public const uint ACCESS_SYSTEM_SECURITY = 0x01000000;
    public const uint MAXIMUM_ALLOWED = 0x02000000;

    // Generic rights.
    public const uint GENERIC_READ = 0x80000000;
    public const uint GENERIC_WRITE = 0x40000000;
    public const uint GENERIC_EXECUTE = 0x20000000;
    public const uint GENERIC_ALL = 0x10000000;

    // File and device rights.
    public const uint FILE_READ_DATA = 0x0001;
    public const uint FILE_LIST_DIRECTORY = 0x0001;
    public const uint FILE_WRITE_DATA = 0x0002;
    public const uint FILE_ADD_FILE = 0x0002;
    public const uint FILE_APPEND_DATA = 0x0004;
    public const uint FILE_READ_EA = 0x0008;
    public const uint FILE_WRITE_EA = 0x0010;
    public const uint FILE_EXECUTE = 0x0020;
    public const uint FILE_READ_ATTRIBUTES = 0x0080;
    public const uint FILE_WRITE_ATTRIBUTES = 0x0100;
    public const uint FILE_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF;
    public const uint FILE_GENERIC_READ = STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
    public const uint FILE_GENERIC_WRITE = STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE;
    public const uint FILE_GENERIC_EXECUTE = STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE;

    // Object directory and symbolic link rights.
    public const uint DIRECTORY_QUERY = 0x0001;
    public const uint DIRECTORY_TRAVERSE = 0x0002;
    public const uint DIRECTORY_CREATE_OBJECT = 0x0004;
    public const uint DIRECTORY_CREATE_SUBDIRECTORY = 0x0008;
    public const uint DIRECTORY_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0xF;
    public const uint SYMBOLIC_LINK_QUERY = 0x0001;
    public const uint SYMBOLIC_LINK_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0x1;

    // Dispatcher object rights.
    public const uint EVENT_QUERY_STATE = 0x0001;
    public const uint EVENT_MODIFY_STATE = 0x0002;
    public const uint EVENT_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;
    public const uint SEMAPHORE_QUERY_STATE = 0x0001;
    public const uint SEMAPHORE_MODIFY_STATE = 0x0002;
    public const uint SEMAPHORE_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;
    public const uint MUTANT_QUERY_STATE = 0x0001;
    public const uint MUTANT_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | MUTANT_QUERY_STATE;
    public const uint TIMER_QUERY_STATE = 0x0001;
    public const uint TIMER_MODIFY_STATE = 0x0002;
    public const uint TIMER_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;
    public const uint IO_COMPLETION_QUERY_STATE = 0x0001;
    public const uint IO_COMPLETION_MODIFY_STATE = 0x0002;
    public const uint IO_COMPLETION_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;

    // Section rights (SECTION_ALL_ACCESS does not include SECTION_MAP_EXECUTE_EXPLICIT).
    public const uint SECTION_QUERY = 0x0001;
    public const uint SECTION_MAP_WRITE = 0x0002;
    public const uint SECTION_MAP_READ = 0x0004;
    public const uint SECTION_MAP_EXECUTE = 0x0008;
    public const uint SECTION_EXTEND_SIZE = 0x0010;
    public const uint SECTION_MAP_EXECUTE_EXPLICIT = 0x0020;
    public const uint SECTION_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0x1F;

    // Process and thread rights.
    public const uint PROCESS_VM_OPERATION = 0x0008;
    public const uint PROCESS_VM_READ = 0x0010;
    public const uint PROCESS_VM_WRITE = 0x0020;
    public const uint PROCESS_DUP_HANDLE = 0x0040;
    public const uint PROCESS_QUERY_INFORMATION = 0x0400;
    public const uint PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
    public const uint PROCESS_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF;
    public const uint THREAD_TERMINATE = 0x0001;
    public const uint THREAD_SET_CONTEXT = 0x0010;
    public const uint THREAD_QUERY_INFORMATION = 0x0040;
    public const uint THREAD_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF;
}

/// <summary>GENERIC_MAPPING: how an object type turns the four generic rights into its specific ones.</summary>
public readonly record struct GenericMapping(uint GenericRead, uint GenericWrite, uint GenericExecute, uint GenericAll)
{
    /// <summary>RtlMapGenericMask: replaces generic bits with the type's specific rights.</summary>
    public uint Map(uint access)
    {
        if ((access & AccessMask.GENERIC_READ) != 0) access |= GenericRead;
        if ((access & AccessMask.GENERIC_WRITE) != 0) access |= GenericWrite;
        if ((access & AccessMask.GENERIC_EXECUTE) != 0) access |= GenericExecute;
        if ((access & AccessMask.GENERIC_ALL) != 0) access |= GenericAll;
        return access & ~(AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.GENERIC_EXECUTE | AccessMask.GENERIC_ALL);
    }

    public static readonly GenericMapping File = new(
        AccessMask.FILE_GENERIC_READ, AccessMask.FILE_GENERIC_WRITE, AccessMask.FILE_GENERIC_EXECUTE, AccessMask.FILE_ALL_ACCESS);
}
