using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

public static unsafe partial class Kernel32
{
    // ---- File mappings (sections) ----

    /// <summary>
    /// CreateFileMapping over the paging file (<paramref name="file"/> = INVALID_HANDLE_VALUE). The
    /// handle gets the access the protection allows, as kernelbase asks for it; an existing name
    /// opens that mapping (with its own size) and sets ERROR_ALREADY_EXISTS.
    /// </summary>
    public static nint CreateFileMapping(nint file, nint securityAttributes, uint protect, uint maximumSizeHigh, uint maximumSizeLow, string? name)
    {
        _ = securityAttributes;
        const uint secFlags = MemoryAttributes.SEC_FILE | MemoryAttributes.SEC_IMAGE | MemoryAttributes.SEC_RESERVE | MemoryAttributes.SEC_COMMIT
            | MemoryAttributes.SEC_NOCACHE | MemoryAttributes.SEC_WRITECOMBINE | MemoryAttributes.SEC_LARGE_PAGES;
        var attributes = protect & secFlags;
        if (attributes == 0) attributes = MemoryAttributes.SEC_COMMIT;
        var access = MappingAccess(protect & ~secFlags);
        var size = ((long)maximumSizeHigh << 32) | maximumSizeLow;
        if (access == 0 || (file == INVALID_HANDLE_VALUE && size == 0))
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return 0;
        }
        nint handle;
        var status = Ntdll.NtCreateSection(&handle, access, Named(name, false, openIf: true), &size, protect & ~secFlags, attributes,
            file == INVALID_HANDLE_VALUE ? 0 : file);
        return Created(status, handle);
    }

    /// <summary>The access kernelbase asks for a mapping of this protection; 0 for one CreateFileMapping refuses.</summary>
    private static uint MappingAccess(uint protection)
    {
        const uint common = AccessMask.STANDARD_RIGHTS_REQUIRED | AccessMask.SECTION_QUERY | AccessMask.SECTION_MAP_READ;
        return protection switch
        {
            PageProtection.PAGE_READONLY or PageProtection.PAGE_WRITECOPY => common,
            PageProtection.PAGE_READWRITE => common | AccessMask.SECTION_MAP_WRITE,
            PageProtection.PAGE_EXECUTE_READ or PageProtection.PAGE_EXECUTE_WRITECOPY => common | AccessMask.SECTION_MAP_EXECUTE,
            PageProtection.PAGE_EXECUTE_READWRITE => common | AccessMask.SECTION_MAP_WRITE | AccessMask.SECTION_MAP_EXECUTE,
            _ => 0,
        };
    }

    /// <summary>OpenFileMapping: FILE_MAP_COPY alone asks for SECTION_MAP_READ.</summary>
    public static nint OpenFileMapping(uint desiredAccess, bool inheritHandle, string name)
    {
        if (desiredAccess == FileMapAccess.FILE_MAP_COPY) desiredAccess = AccessMask.SECTION_MAP_READ;
        return OpenNamed(&Ntdll.NtOpenSection, desiredAccess, inheritHandle, name);
    }

    public static nint MapViewOfFile(nint fileMapping, uint desiredAccess, uint fileOffsetHigh, uint fileOffsetLow, nuint numberOfBytesToMap) =>
        MapViewOfFileEx(fileMapping, desiredAccess, fileOffsetHigh, fileOffsetLow, numberOfBytesToMap, 0);

    /// <summary>
    /// MapViewOfFileEx: FILE_MAP_* becomes a page protection (FILE_MAP_COPY alone: copy-on-write; WRITE:
    /// read-write; READ: read-only; FILE_MAP_EXECUTE adds execute); the view's address, or 0 with the last error.
    /// </summary>
    public static nint MapViewOfFileEx(nint fileMapping, uint desiredAccess, uint fileOffsetHigh, uint fileOffsetLow, nuint numberOfBytesToMap,
        nint baseAddress)
    {
        var offset = ((long)fileOffsetHigh << 32) | fileOffsetLow;
        var size = numberOfBytesToMap;
        var address = baseAddress;
        var status = Ntdll.NtMapViewOfSection(fileMapping, GetCurrentProcess(), &address, 0, 0, &offset, &size, SectionInherit.ViewShare, 0,
            ViewProtection(desiredAccess));
        if (status.IsSuccess) return address;
        Fail(status);
        return 0;
    }

    private static uint ViewProtection(uint access)
    {
        var execute = (access & FileMapAccess.FILE_MAP_EXECUTE) != 0;
        access &= ~FileMapAccess.FILE_MAP_EXECUTE;
        if (access == FileMapAccess.FILE_MAP_COPY) return execute ? PageProtection.PAGE_EXECUTE_WRITECOPY : PageProtection.PAGE_WRITECOPY;
        if ((access & FileMapAccess.FILE_MAP_WRITE) != 0) return execute ? PageProtection.PAGE_EXECUTE_READWRITE : PageProtection.PAGE_READWRITE;
        if ((access & FileMapAccess.FILE_MAP_READ) != 0) return execute ? PageProtection.PAGE_EXECUTE_READ : PageProtection.PAGE_READONLY;
        return PageProtection.PAGE_NOACCESS;
    }

    /// <summary>UnmapViewOfFile: any address inside a view unmaps all of it.</summary>
    public static bool UnmapViewOfFile(nint baseAddress) => Check(Ntdll.NtUnmapViewOfSection(GetCurrentProcess(), baseAddress));

    /// <summary>FlushViewOfFile: a paging-file view has nothing to write back, which is success.</summary>
    public static bool FlushViewOfFile(nint baseAddress, nuint numberOfBytesToFlush)
    {
        var address = baseAddress;
        var size = numberOfBytesToFlush;
        IO_STATUS_BLOCK iosb;
        var status = Ntdll.NtFlushVirtualMemory(GetCurrentProcess(), &address, &size, &iosb);
        return status == NtStatus.STATUS_NOT_MAPPED_DATA || Check(status);
    }

    /// <summary>VirtualQuery in the view space: the bytes written (sizeof(MEMORY_BASIC_INFORMATION)), or 0 with the last error.</summary>
    public static nuint VirtualQuery(nint address, MemoryBasicInformation* buffer, nuint length)
    {
        nuint written;
        var status = Ntdll.NtQueryVirtualMemory(GetCurrentProcess(), address, MemoryInformationClass.MemoryBasicInformation, buffer, length, &written);
        if (status.IsSuccess) return written;
        Fail(status);
        return 0;
    }
}
