using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>SECTION_BASIC_INFORMATION.</summary>
public struct SectionBasicInformation
{
    public nint BaseAddress;
    public uint AllocationAttributes;
    public long MaximumSize;
}

/// <summary>MEMORY_BASIC_INFORMATION.</summary>
public struct MemoryBasicInformation
{
    public nint BaseAddress;
    public nint AllocationBase;
    public uint AllocationProtect;
    public nint RegionSize;
    public uint State;
    public uint Protect;
    public uint Type;
}

public static unsafe partial class Ntdll
{
    // ---- Sections and views ----

    /// <summary>NtCreateSection over the paging file (<paramref name="fileHandle"/> 0); <paramref name="maximumSize"/> is required.</summary>
    public static NtStatus NtCreateSection(nint* sectionHandle, uint desiredAccess, ObjectAttributes objectAttributes, long* maximumSize,
        uint sectionPageProtection, uint allocationAttributes, nint fileHandle) =>
        NtCreateSection(null, sectionHandle, desiredAccess, objectAttributes, maximumSize, sectionPageProtection, allocationAttributes, fileHandle);

    internal static NtStatus NtCreateSection(GateClient? gate, nint* sectionHandle, uint desiredAccess, ObjectAttributes objectAttributes, long* maximumSize,
        uint sectionPageProtection, uint allocationAttributes, nint fileHandle)
    {
        if (!BeginOpen(ref gate, sectionHandle, out var status)) return status;
        var size = maximumSize is null ? 0 : *maximumSize;
        status = Syscalls.NtCreateSection(gate, new NtCreateSectionRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            size, sectionPageProtection, allocationAttributes, fileHandle, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(sectionHandle, status, reply);
    }

    public static NtStatus NtOpenSection(nint* sectionHandle, uint desiredAccess, ObjectAttributes objectAttributes) =>
        NtOpenSection(null, sectionHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtOpenSection(GateClient? gate, nint* sectionHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        if (!BeginOpen(ref gate, sectionHandle, out var status)) return status;
        status = Syscalls.NtOpenSection(gate, new NtOpenSectionRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        return HandleOut(sectionHandle, status, reply);
    }

    /// <summary>
    /// NtMapViewOfSection. The kernel places the view (at *<paramref name="baseAddress"/> if not 0) and
    /// the client library maps it before this returns; *<paramref name="viewSize"/> comes back rounded to pages.
    /// </summary>
    public static NtStatus NtMapViewOfSection(nint sectionHandle, nint processHandle, nint* baseAddress, nuint zeroBits, nuint commitSize,
        long* sectionOffset, nuint* viewSize, SectionInherit inheritDisposition, uint allocationType, uint win32Protect) =>
        NtMapViewOfSection(null, sectionHandle, processHandle, baseAddress, zeroBits, commitSize, sectionOffset, viewSize, inheritDisposition, allocationType, win32Protect);

    internal static NtStatus NtMapViewOfSection(GateClient? gate, nint sectionHandle, nint processHandle, nint* baseAddress, nuint zeroBits, nuint commitSize,
        long* sectionOffset, nuint* viewSize, SectionInherit inheritDisposition, uint allocationType, uint win32Protect)
    {
        if (baseAddress is null || viewSize is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtMapViewOfSection(gate, new NtMapViewOfSectionRequest(sectionHandle, processHandle, (ulong)*baseAddress, zeroBits, commitSize,
            sectionOffset is null ? 0 : *sectionOffset, *viewSize, inheritDisposition, allocationType, win32Protect, 0), out var reply);
        if (!status.IsSuccess) return status;
        *baseAddress = (nint)reply.BaseAddress;
        *viewSize = (nuint)reply.ViewSize;
        if (sectionOffset is not null) *sectionOffset = reply.SectionOffset;
        return status;
    }

    public static NtStatus NtUnmapViewOfSection(nint processHandle, nint baseAddress) =>
        NtUnmapViewOfSection(null, processHandle, baseAddress);

    internal static NtStatus NtUnmapViewOfSection(GateClient? gate, nint processHandle, nint baseAddress)
    {
        return TryGate(ref gate, out var status)
            ? Syscalls.NtUnmapViewOfSection(gate, new NtUnmapViewOfSectionRequest(processHandle, (ulong)baseAddress), out _)
            : status;
    }

    /// <summary>NtQuerySection: SectionBasicInformation (a paging-file section has no image information).</summary>
    public static NtStatus NtQuerySection(nint sectionHandle, SectionInformationClass informationClass, void* information, uint length, uint* returnLength) =>
        NtQuerySection(null, sectionHandle, informationClass, information, length, returnLength);

    internal static NtStatus NtQuerySection(GateClient? gate, nint sectionHandle, SectionInformationClass informationClass, void* information, uint length, uint* returnLength)
    {
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtQuerySection(gate, new NtQuerySectionRequest(sectionHandle, informationClass, length), out var reply);
        if (!status.IsSuccess) return status;
        if (information is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        *(SectionBasicInformation*)information = new SectionBasicInformation
        {
            BaseAddress = (nint)reply.BaseAddress,
            AllocationAttributes = reply.AllocationAttributes,
            MaximumSize = reply.MaximumSize,
        };
        if (returnLength is not null) *returnLength = reply.ReturnLength;
        return status;
    }

    /// <summary>NtQueryVirtualMemory(MemoryBasicInformation), for addresses in the view space (the part of the address space the kernel manages).</summary>
    public static NtStatus NtQueryVirtualMemory(nint processHandle, nint baseAddress, MemoryInformationClass informationClass, void* information,
        nuint length, nuint* returnLength)
    {
        GateClient? gate = null;
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtQueryVirtualMemory(gate, new NtQueryVirtualMemoryRequest(processHandle, (ulong)baseAddress, informationClass,
            (uint)Math.Min(length, uint.MaxValue)), out var reply);
        if (!status.IsSuccess) return status;
        if (information is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        *(MemoryBasicInformation*)information = new MemoryBasicInformation
        {
            BaseAddress = (nint)reply.BaseAddress,
            AllocationBase = (nint)reply.AllocationBase,
            AllocationProtect = reply.AllocationProtect,
            RegionSize = (nint)reply.RegionSize,
            State = reply.State,
            Protect = reply.Protect,
            Type = reply.Type,
        };
        if (returnLength is not null) *returnLength = (nuint)sizeof(MemoryBasicInformation);
        return status;
    }

    /// <summary>NtFlushVirtualMemory: a paging-file view has no file to write (STATUS_NOT_MAPPED_DATA).</summary>
    public static NtStatus NtFlushVirtualMemory(nint processHandle, nint* baseAddress, nuint* regionSize, IO_STATUS_BLOCK* ioStatus)
    {
        if (baseAddress is null || regionSize is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        GateClient? gate = null;
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtFlushVirtualMemory(gate, new NtFlushVirtualMemoryRequest(processHandle, (ulong)*baseAddress, *regionSize), out var reply);
        // A paging-file view answers STATUS_NOT_MAPPED_DATA (nothing to write back) with the range it checked.
        if (status.IsError && status != NtStatus.STATUS_NOT_MAPPED_DATA) return status;
        *baseAddress = (nint)reply.BaseAddress;
        *regionSize = (nuint)reply.RegionSize;
        if (ioStatus is not null) *ioStatus = new IO_STATUS_BLOCK { Status = status.Value, Information = 0 };
        return status;
    }
}
