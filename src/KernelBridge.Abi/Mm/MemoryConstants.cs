namespace KernelBridge.Abi;

/// <summary>PAGE_* page protections (winnt.h): what a section is created with and a view is mapped with.</summary>
public static class PageProtection
{
    public const uint PAGE_NOACCESS = 0x01;
    public const uint PAGE_READONLY = 0x02;
    public const uint PAGE_READWRITE = 0x04;
    public const uint PAGE_WRITECOPY = 0x08;
    public const uint PAGE_EXECUTE = 0x10;
    public const uint PAGE_EXECUTE_READ = 0x20;
    public const uint PAGE_EXECUTE_READWRITE = 0x40;
    public const uint PAGE_EXECUTE_WRITECOPY = 0x80;
    public const uint PAGE_GUARD = 0x100;
    public const uint PAGE_NOCACHE = 0x200;
    public const uint PAGE_WRITECOMBINE = 0x400;
}

/// <summary>SEC_* allocation attributes of a section, MEM_* states and types of a region (winnt.h).</summary>
public static class MemoryAttributes
{
    public const uint SEC_FILE = 0x00800000;
    public const uint SEC_IMAGE = 0x01000000;
    public const uint SEC_RESERVE = 0x04000000;
    public const uint SEC_COMMIT = 0x08000000;
    public const uint SEC_NOCACHE = 0x10000000;
    public const uint SEC_WRITECOMBINE = 0x40000000;
    public const uint SEC_LARGE_PAGES = 0x80000000;

    public const uint MEM_COMMIT = 0x00001000;
    public const uint MEM_RESERVE = 0x00002000;
    public const uint MEM_TOP_DOWN = 0x00100000;
    public const uint SEC_NO_CHANGE = 0x00400000;
    public const uint MEM_LARGE_PAGES = 0x20000000;
    public const uint MEM_FREE = 0x00010000;
    public const uint MEM_PRIVATE = 0x00020000;
    public const uint MEM_MAPPED = 0x00040000;
    public const uint MEM_IMAGE = 0x01000000;

    /// <summary>What MapViewOfFileEx's base address and a view's offset must be multiples of (SYSTEM_INFO.dwAllocationGranularity).</summary>
    public const int AllocationGranularity = 64 * 1024;

    /// <summary>SYSTEM_INFO.dwPageSize: view sizes are rounded up to it.</summary>
    public const int PageSize = 4096;
}

/// <summary>FILE_MAP_* access of MapViewOfFile and OpenFileMapping (the section rights they stand for).</summary>
public static class FileMapAccess
{
    public const uint FILE_MAP_COPY = AccessMask.SECTION_QUERY;
    public const uint FILE_MAP_WRITE = AccessMask.SECTION_MAP_WRITE;
    public const uint FILE_MAP_READ = AccessMask.SECTION_MAP_READ;
    public const uint FILE_MAP_EXECUTE = AccessMask.SECTION_MAP_EXECUTE_EXPLICIT;
    public const uint FILE_MAP_ALL_ACCESS = AccessMask.SECTION_ALL_ACCESS;
}

/// <summary>SECTION_INFORMATION_CLASS.</summary>
public enum SectionInformationClass : uint
{
    SectionBasicInformation = 0,
    SectionImageInformation = 1,
}

/// <summary>MEMORY_INFORMATION_CLASS (the one KernelBridge answers).</summary>
public enum MemoryInformationClass : uint
{
    MemoryBasicInformation = 0,
}

/// <summary>SECTION_INHERIT.</summary>
public enum SectionInherit : uint
{
    ViewShare = 1,
    ViewUnmap = 2,
}
