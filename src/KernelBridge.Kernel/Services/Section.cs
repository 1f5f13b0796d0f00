using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Mm;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateSection, NtOpenSection, NtMapViewOfSection, NtUnmapViewOfSection, NtQuerySection, NtQueryVirtualMemory, NtFlushVirtualMemory.</summary>
internal sealed partial class SystemServices
{
    // x64 sizes of SECTION_BASIC_INFORMATION, SECTION_IMAGE_INFORMATION and MEMORY_BASIC_INFORMATION.
    private const int SectionBasicInformationLength = 24;
    private const int SectionImageInformationLength = 64;
    private const int MemoryBasicInformationLength = 48;

    public void NtCreateSection(in SyscallContext context, in NtCreateSectionRequest request, NtCreateSectionRequest.Data data)
    {
        var status = _host.MemoryManager.CreateSection(request.MaximumSize, request.SectionPageProtection, request.AllocationAttributes, request.FileHandle,
            out var section);
        if (Refused(context, status, new HandleReply(0))) return;
        CreateNamed(context, section!, request.RootDirectory, data.ObjectName, request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenSection(in SyscallContext context, in NtOpenSectionRequest request, NtOpenSectionRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Section, request.DesiredAccess);

    /// <summary>The protection first, then the handle with the access the protection needs, then the process, offset and size.</summary>
    public void NtMapViewOfSection(in SyscallContext context, in NtMapViewOfSectionRequest request)
    {
        var status = MapViewParameters(request);
        if (Refused(context, status, default(MapViewReply))) return;
        using var process = Reference<ProcessObject>(context, request.ProcessHandle, AccessMask.PROCESS_VM_OPERATION, ObjectTypes.Process);
        if (Refused(context, process.Status, default(MapViewReply))) return;
        using var section = Reference<MmSection>(context, request.SectionHandle, PageProtections.RequiredAccess(request.Win32Protect), ObjectTypes.Section);
        if (Refused(context, section.Status, default(MapViewReply))) return;
        if (request.CommitSize > (request.ViewSize == 0 ? (ulong)section.Value.MaximumSize : request.ViewSize))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_5, default(MapViewReply));
            return;
        }
        var baseAddress = request.BaseAddress;
        var viewSize = request.ViewSize;
        status = _host.MemoryManager.MapUserView(process.Value, section.Value, request.Win32Protect, ref baseAddress, request.SectionOffset, ref viewSize);
        context.Reply.Send(status, status.IsSuccess ? new MapViewReply(baseAddress, request.SectionOffset, viewSize) : default);
    }

    /// <summary>NtMapViewOfSection's checks before any handle, in Windows' order.</summary>
    private static NtStatus MapViewParameters(in NtMapViewOfSectionRequest request)
    {
        const uint allowedTypes = MemoryAttributes.MEM_TOP_DOWN | MemoryAttributes.MEM_LARGE_PAGES | MemoryAttributes.SEC_NO_CHANGE;
        const ulong highestUserAddress = (1UL << 47) - 1;
        if (request.ZeroBits > 53) return NtStatus.STATUS_INVALID_PARAMETER_4;
        if (request.InheritDisposition is not (SectionInherit.ViewShare or SectionInherit.ViewUnmap)) return NtStatus.STATUS_INVALID_PARAMETER_8;
        // MEM_RESERVE is valid only for file-backed views, and MEM_COMMIT never: this kernel's sections are the paging file's.
        if ((request.AllocationType & ~allowedTypes) != 0) return NtStatus.STATUS_INVALID_PARAMETER_9;
        if (!PageProtections.IsValid(request.Win32Protect)) return NtStatus.STATUS_INVALID_PAGE_PROTECTION;
        if (request.BaseAddress > highestUserAddress || request.ViewSize > highestUserAddress - request.BaseAddress) return NtStatus.STATUS_INVALID_PARAMETER_3;
        return NtStatus.STATUS_SUCCESS;
    }

    public void NtUnmapViewOfSection(in SyscallContext context, in NtUnmapViewOfSectionRequest request)
    {
        using var process = Reference<ProcessObject>(context, request.ProcessHandle, AccessMask.PROCESS_VM_OPERATION, ObjectTypes.Process);
        if (Refused(context, process.Status, default(EmptyReply))) return;
        context.Reply.Send(_host.MemoryManager.UnmapUserView(process.Value, request.BaseAddress), default(EmptyReply));
    }

    /// <summary>SectionBasicInformation; a paging-file section has no image information.</summary>
    public void NtQuerySection(in SyscallContext context, in NtQuerySectionRequest request)
    {
        if (request.InformationClass > SectionInformationClass.SectionImageInformation)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS, default(QuerySectionReply));
            return;
        }
        var image = request.InformationClass == SectionInformationClass.SectionImageInformation;
        if (request.Length < (image ? SectionImageInformationLength : SectionBasicInformationLength))
        {
            context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, default(QuerySectionReply));
            return;
        }
        using var section = Reference<MmSection>(context, request.Handle, AccessMask.SECTION_QUERY, ObjectTypes.Section);
        if (Refused(context, section.Status, default(QuerySectionReply))) return;
        if (image)
        {
            context.Reply.Send(NtStatus.STATUS_SECTION_NOT_IMAGE, default(QuerySectionReply));
            return;
        }
        var value = section.Value;
        context.Reply.Send(NtStatus.STATUS_SUCCESS,
            new QuerySectionReply(0, value.AllocationAttributes, (uint)SectionBasicInformationLength, (long)MemoryManager.RoundToPage((ulong)value.MaximumSize)));
    }

    /// <summary>MemoryBasicInformation for an address in the view space (a view, or the free room between views).</summary>
    public void NtQueryVirtualMemory(in SyscallContext context, in NtQueryVirtualMemoryRequest request)
    {
        if (request.InformationClass != MemoryInformationClass.MemoryBasicInformation)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS, default(MemoryBasicInformationReply));
            return;
        }
        if (request.Length < MemoryBasicInformationLength)
        {
            context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, default(MemoryBasicInformationReply));
            return;
        }
        using var process = Reference<ProcessObject>(context, request.ProcessHandle, AccessMask.PROCESS_QUERY_INFORMATION, ObjectTypes.Process);
        if (Refused(context, process.Status, default(MemoryBasicInformationReply))) return;
        var status = _host.MemoryManager.Query(process.Value, request.BaseAddress, out var region);
        context.Reply.Send(status, new MemoryBasicInformationReply(region.BaseAddress, region.AllocationBase, region.AllocationProtect, 0, region.RegionSize,
            region.State, region.Protect, region.Type, 0));
    }

    /// <summary>A paging-file view has nothing to write back (STATUS_NOT_MAPPED_DATA): the range is checked and reported.</summary>
    public void NtFlushVirtualMemory(in SyscallContext context, in NtFlushVirtualMemoryRequest request)
    {
        using var process = Reference<ProcessObject>(context, request.ProcessHandle, AccessMask.PROCESS_VM_OPERATION, ObjectTypes.Process);
        if (Refused(context, process.Status, default(FlushVirtualMemoryReply))) return;
        var status = _host.MemoryManager.Flush(process.Value, request.BaseAddress, request.RegionSize, out var start, out var length);
        context.Reply.Send(status, new FlushVirtualMemoryReply(start, length, new IoStatusWire(status.Value, 0, 0)));
    }
}
