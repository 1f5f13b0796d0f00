using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Mm;

/// <summary>
/// Paging-file sections and views in one process, through the real kernel: CreateFileMapping,
/// MapViewOfFile, VirtualQuery, UnmapViewOfFile and their Nt forms, with the errors Windows gives
/// (Wine's kernel32/ntdll virtual.c tests, ReactOS's NtMapViewOfSection and ZwCreateSection tests).
/// The kernel is the class's own, so its counts are ours.
/// </summary>
public sealed unsafe class SectionTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private const uint ReadWrite = PageProtection.PAGE_READWRITE;

    private static GateClient.ThreadScope Use(GateClient gate) => GateClient.Use(gate);

    private GateClient.ThreadScope Use() => Use(fixture.Gate);

    private static nint Anonymous(uint size, uint protect = ReadWrite)
    {
        var mapping = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, protect, 0, size, null);
        Assert.True(mapping != 0, $"CreateFileMapping: error {Kernel32.GetLastError()}");
        return mapping;
    }

    private static void AssertFailed(uint error, bool result) => AssertError(error, result ? 1 : 0);

    private static void AssertError(uint error, nint result)
    {
        Assert.Equal(0, result);
        Assert.Equal(error, Kernel32.GetLastError());
    }

    [Fact]
    public void A_view_is_memory_two_views_of_one_section_share_and_VirtualQuery_describes_it()
    {
        using var scope = Use();
        var mapping = Anonymous(100_000);
        try
        {
            var first = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_WRITE, 0, 0, 0);
            var second = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 0, 0);
            Assert.NotEqual(0, first);
            Assert.NotEqual(0, second);
            Assert.NotEqual(first, second);
            Assert.Equal(0, first % MemoryAttributes.AllocationGranularity);
            ((byte*)first)[99_999] = 0x5A;
            Assert.Equal(0x5A, ((byte*)second)[99_999]);

            MemoryBasicInformation info;
            Assert.Equal((nuint)sizeof(MemoryBasicInformation), Kernel32.VirtualQuery(first + 5000, &info, (nuint)sizeof(MemoryBasicInformation)));
            Assert.Equal(first + 4096, info.BaseAddress);
            Assert.Equal(first, info.AllocationBase);
            Assert.Equal(102_400 - 4096, (long)info.RegionSize);
            Assert.Equal(MemoryAttributes.MEM_COMMIT, info.State);
            Assert.Equal(MemoryAttributes.MEM_MAPPED, info.Type);
            Assert.Equal(ReadWrite, info.Protect);
            Assert.Equal(ReadWrite, info.AllocationProtect);
            Kernel32.VirtualQuery(second, &info, (nuint)sizeof(MemoryBasicInformation));
            Assert.Equal(PageProtection.PAGE_READONLY, info.Protect);

            Assert.True(Kernel32.FlushViewOfFile(first, 0));
            // Any address inside a view unmaps all of it; a second unmap finds nothing.
            Assert.True(Kernel32.UnmapViewOfFile(first + 4096 + 100));
            AssertFailed((uint)Win32Error.ERROR_INVALID_ADDRESS, Kernel32.UnmapViewOfFile(first));
            Kernel32.VirtualQuery(first, &info, (nuint)sizeof(MemoryBasicInformation));
            Assert.Equal(MemoryAttributes.MEM_FREE, info.State);
            Assert.Equal(0, info.AllocationBase);
            Assert.True(Kernel32.UnmapViewOfFile(second));
            AssertFailed((uint)Win32Error.ERROR_INVALID_ADDRESS, Kernel32.FlushViewOfFile(second, 0));
        }
        finally
        {
            Kernel32.CloseHandle(mapping);
        }
    }

    [Fact]
    public void CreateFileMapping_on_an_existing_name_opens_it_with_its_own_size_and_sets_ERROR_ALREADY_EXISTS()
    {
        using var scope = Use();
        var name = $"kb-section-{Guid.NewGuid():N}";
        var first = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, ReadWrite, 0, 8192, name);
        Assert.NotEqual(0, first);
        Assert.Equal((uint)Win32Error.ERROR_SUCCESS, Kernel32.GetLastError());
        var second = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, ReadWrite, 0, 1 << 20, name);
        Assert.NotEqual(0, second);
        Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, Kernel32.GetLastError());
        try
        {
            SectionBasicInformation info;
            uint length;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQuerySection(second, SectionInformationClass.SectionBasicInformation, &info, 24, &length));
            Assert.Equal(8192, info.MaximumSize);
            Assert.Equal(MemoryAttributes.SEC_COMMIT, info.AllocationAttributes);
            Assert.Equal(0, info.BaseAddress);
            Assert.Equal(24u, length);
            var a = Kernel32.MapViewOfFile(first, FileMapAccess.FILE_MAP_WRITE, 0, 0, 0);
            var b = Kernel32.MapViewOfFile(second, FileMapAccess.FILE_MAP_READ, 0, 0, 0);
            *(long*)a = 0x1122334455667788;
            Assert.Equal(0x1122334455667788, *(long*)b);
            Assert.True(Kernel32.UnmapViewOfFile(a));
            Assert.True(Kernel32.UnmapViewOfFile(b));
        }
        finally
        {
            Kernel32.CloseHandle(first);
            Kernel32.CloseHandle(second);
        }
        // The name went with the last handle.
        AssertError((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name));
    }

    [Theory]
    [InlineData(PageProtection.PAGE_NOACCESS)]
    [InlineData(PageProtection.PAGE_EXECUTE)]
    [InlineData(0u)]
    [InlineData(PageProtection.PAGE_READONLY | PageProtection.PAGE_READWRITE)]
    [InlineData(PageProtection.PAGE_READWRITE | PageProtection.PAGE_GUARD)]
    public void CreateFileMapping_refuses_protections_a_paging_file_mapping_cannot_have(uint protect)
    {
        using var scope = Use();
        AssertError((uint)Win32Error.ERROR_INVALID_PARAMETER, Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, protect, 0, 4096, null));
    }

    [Theory]
    [InlineData(PageProtection.PAGE_READONLY)]
    [InlineData(PageProtection.PAGE_WRITECOPY)]
    [InlineData(PageProtection.PAGE_EXECUTE_READ)]
    [InlineData(PageProtection.PAGE_EXECUTE_READWRITE)]
    [InlineData(PageProtection.PAGE_EXECUTE_WRITECOPY)]
    public void CreateFileMapping_accepts_the_documented_protections(uint protect)
    {
        using var scope = Use();
        var mapping = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, protect, 0, 4096, null);
        Assert.NotEqual(0, mapping);
        Kernel32.CloseHandle(mapping);
    }

    [Fact]
    public void NtCreateSection_checks_attributes_protection_size_and_file_as_Windows_does()
    {
        using var scope = Use();
        NtStatus Create(long size, uint protect, uint attributes, nint file = 0)
        {
            nint handle;
            var status = Ntdll.NtCreateSection(&handle, AccessMask.SECTION_ALL_ACCESS, default, &size, protect, attributes, file);
            if (status.IsSuccess) Ntdll.NtClose(handle);
            return status;
        }
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_6, Create(4096, ReadWrite, 0));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_6, Create(4096, ReadWrite, MemoryAttributes.SEC_COMMIT | MemoryAttributes.SEC_RESERVE));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_6, Create(4096, ReadWrite, MemoryAttributes.SEC_NOCACHE));
        Assert.Equal(NtStatus.STATUS_INVALID_FILE_FOR_SECTION, Create(4096, ReadWrite, MemoryAttributes.SEC_IMAGE));
        Assert.Equal(NtStatus.STATUS_INVALID_PAGE_PROTECTION, Create(4096, PageProtection.PAGE_NOACCESS, MemoryAttributes.SEC_COMMIT));
        Assert.Equal(NtStatus.STATUS_INVALID_PAGE_PROTECTION, Create(4096, ReadWrite | PageProtection.PAGE_NOCACHE, MemoryAttributes.SEC_COMMIT));
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_4, Create(0, ReadWrite, MemoryAttributes.SEC_COMMIT));
        Assert.Equal(NtStatus.STATUS_SECTION_TOO_BIG, Create(-1, ReadWrite, MemoryAttributes.SEC_COMMIT));
        // Larger than the kernel's limit (1 GiB by default).
        Assert.Equal(NtStatus.STATUS_SECTION_TOO_BIG, Create(2L << 30, ReadWrite, MemoryAttributes.SEC_COMMIT));
        Assert.Equal(NtStatus.STATUS_SUCCESS, Create(4096, PageProtection.PAGE_EXECUTE, MemoryAttributes.SEC_COMMIT));
        Assert.Equal(NtStatus.STATUS_SUCCESS, Create(4096, ReadWrite, MemoryAttributes.SEC_RESERVE | MemoryAttributes.SEC_NOCACHE));
    }

    [Fact]
    public void MapViewOfFile_refuses_misaligned_offsets_views_past_the_end_and_more_access_than_the_handle_has()
    {
        using var scope = Use();
        var mapping = Anonymous(3 * 65536 + 100);
        try
        {
            AssertError((uint)Win32Error.ERROR_MAPPED_ALIGNMENT, Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 4096, 0));
            AssertError((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 0, 4 * 65536));
            AssertError((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 4 * 65536, 0));
            // A view at the last granule, to the end (rounded up to a page).
            var tail = Kernel32.MapViewOfFile(mapping, FileMapAccess.FILE_MAP_READ, 0, 3 * 65536, 0);
            Assert.NotEqual(0, tail);
            MemoryBasicInformation info;
            Kernel32.VirtualQuery(tail, &info, (nuint)sizeof(MemoryBasicInformation));
            Assert.Equal(4096, (long)info.RegionSize);
            Assert.True(Kernel32.UnmapViewOfFile(tail));
        }
        finally
        {
            Kernel32.CloseHandle(mapping);
        }

        var readOnly = Anonymous(4096, PageProtection.PAGE_READONLY);
        try
        {
            // The handle CreateFileMapping gave a read-only mapping has no SECTION_MAP_WRITE.
            AssertError((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.MapViewOfFile(readOnly, FileMapAccess.FILE_MAP_WRITE, 0, 0, 0));
            var copy = Kernel32.MapViewOfFile(readOnly, FileMapAccess.FILE_MAP_COPY, 0, 0, 0);
            Assert.NotEqual(0, copy);
            Assert.True(Kernel32.UnmapViewOfFile(copy));
        }
        finally
        {
            Kernel32.CloseHandle(readOnly);
        }
    }

    [Fact]
    public void NtMapViewOfSection_checks_protection_handles_and_addresses()
    {
        using var scope = Use();
        nint section;
        long size = 65536;
        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCreateSection(&section, AccessMask.SECTION_ALL_ACCESS, default, &size, PageProtection.PAGE_READONLY,
            MemoryAttributes.SEC_COMMIT, 0));
        nint kevent = Kernel32.CreateEvent(0, true, false, null);
        try
        {
            NtStatus Map(nint handle, uint protect, nint at = 0, long offset = 0, uint allocationType = 0, SectionInherit inherit = SectionInherit.ViewShare)
            {
                var address = at;
                nuint viewSize = 0;
                var status = Ntdll.NtMapViewOfSection(handle, PseudoHandles.CurrentProcess, &address, 0, 0, &offset, &viewSize, inherit, allocationType, protect);
                if (status.IsSuccess) Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, address);
                return status;
            }
            Assert.Equal(NtStatus.STATUS_SECTION_PROTECTION, Map(section, ReadWrite));
            Assert.Equal(NtStatus.STATUS_SECTION_PROTECTION, Map(section, PageProtection.PAGE_EXECUTE_READ));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, PageProtection.PAGE_WRITECOPY));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, PageProtection.PAGE_NOACCESS));
            Assert.Equal(NtStatus.STATUS_INVALID_PAGE_PROTECTION, Map(section, PageProtection.PAGE_READONLY | ReadWrite));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH, Map(kevent, PageProtection.PAGE_READONLY));
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Map(0x7FF0, PageProtection.PAGE_READONLY));
            Assert.Equal(NtStatus.STATUS_MAPPED_ALIGNMENT, Map(section, PageProtection.PAGE_READONLY, offset: 1));
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_9, Map(section, PageProtection.PAGE_READONLY, allocationType: MemoryAttributes.MEM_COMMIT));
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER_8, Map(section, PageProtection.PAGE_READONLY, inherit: (SectionInherit)3));

            var address = (nint)0;
            nuint viewSize = 0;
            long offset = 0;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtMapViewOfSection(section, PseudoHandles.CurrentProcess, &address, 0, 0, &offset, &viewSize,
                SectionInherit.ViewShare, 0, PageProtection.PAGE_READONLY));
            Assert.Equal(65536u, (uint)viewSize);
            try
            {
                Assert.Equal(NtStatus.STATUS_CONFLICTING_ADDRESSES, Map(section, PageProtection.PAGE_READONLY, at: address));
                Assert.Equal(NtStatus.STATUS_MAPPED_ALIGNMENT, Map(section, PageProtection.PAGE_READONLY, at: address + 4096));
            }
            finally
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, address));
            }
            Assert.Equal(NtStatus.STATUS_NOT_MAPPED_VIEW, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, address));
        }
        finally
        {
            Ntdll.NtClose(section);
            Kernel32.CloseHandle(kevent);
        }
    }

    [Fact]
    public void NtQuerySection_needs_SECTION_QUERY_and_a_paging_file_section_has_no_image_information()
    {
        using var scope = Use();
        var name = $"kb-query-{Guid.NewGuid():N}";
        var mapping = Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, ReadWrite, 0, 0x3457, name);
        var mapOnly = Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name);
        try
        {
            var buffer = stackalloc byte[64];
            uint length;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQuerySection(mapping, SectionInformationClass.SectionBasicInformation, buffer, 64, &length));
            Assert.Equal(0x4000, ((SectionBasicInformation*)buffer)->MaximumSize);
            Assert.Equal(NtStatus.STATUS_INFO_LENGTH_MISMATCH, Ntdll.NtQuerySection(mapping, SectionInformationClass.SectionBasicInformation, buffer, 16, &length));
            Assert.Equal(NtStatus.STATUS_SECTION_NOT_IMAGE, Ntdll.NtQuerySection(mapping, SectionInformationClass.SectionImageInformation, buffer, 64, &length));
            Assert.Equal(NtStatus.STATUS_INVALID_INFO_CLASS, Ntdll.NtQuerySection(mapping, (SectionInformationClass)7, buffer, 64, &length));
            Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, Ntdll.NtQuerySection(mapOnly, SectionInformationClass.SectionBasicInformation, buffer, 64, &length));
        }
        finally
        {
            Kernel32.CloseHandle(mapping);
            Kernel32.CloseHandle(mapOnly);
        }
    }

    [Fact]
    public void A_copy_on_write_view_keeps_its_writes_to_itself()
    {
        using var scope = Use();
        using var section = Section.Create(65536, gate: fixture.Gate);
        using var shared = section.MapView();
        using var copy = section.MapView(protection: PageProtection.PAGE_WRITECOPY);
        shared.Write(0, 7L);
        Assert.Equal(7L, copy.Read<long>(0));
        copy.Write(8, 9L);
        Assert.Equal(0L, shared.Read<long>(8));
        Assert.Equal(9L, copy.Read<long>(8));
        MemoryBasicInformation info;
        Kernel32.VirtualQuery(copy.Address, &info, (nuint)sizeof(MemoryBasicInformation));
        Assert.Equal(PageProtection.PAGE_WRITECOPY, info.AllocationProtect);
    }

    [Fact]
    public void The_kernel_frees_a_section_when_its_last_handle_and_view_have_gone()
    {
        using var scope = Use();
        var before = KernelControl.QueryState(fixture.Gate);
        var section = Section.Create(1 << 20, gate: fixture.Gate);
        var view = section.MapView();
        view.Span.Fill(1);
        var mapped = KernelControl.QueryState(fixture.Gate);
        Assert.Equal(before.ObjectsOf("Section") + 1, mapped.ObjectsOf("Section"));
        Assert.Equal(before.Views + 1, mapped.Views);
        Assert.Equal(before.SectionBytes + (1 << 20), mapped.SectionBytes);
        section.Dispose();
        // The view keeps the section alive.
        var handleClosed = KernelControl.QueryState(fixture.Gate);
        Assert.Equal(before.ObjectsOf("Section") + 1, handleClosed.ObjectsOf("Section"));
        Assert.Equal(1, view.Span[12345]);
        view.Dispose();
        var after = KernelControl.QueryState(fixture.Gate);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.SectionBytes, after.SectionBytes);
    }
}
