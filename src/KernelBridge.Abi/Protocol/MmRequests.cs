using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// The memory manager's services: sections and views. A view's memory is mapped by the client
// library, on the kernel's instruction (a View frame with the section's descriptor, see
// docs/protocol.md), at the address the kernel chose inside the view space the client reserved
// at hello; the call's result always comes after the instruction.

/// <summary>NtCreateSection; followed by the object name and the security descriptor (self-relative, none if empty). FileHandle 0: a section backed by the paging file.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(60)]
public partial record struct NtCreateSectionRequest(
    long RootDirectory, uint DesiredAccess, uint Attributes, long MaximumSize, uint SectionPageProtection, uint AllocationAttributes,
    long FileHandle, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(61)]
public partial record struct NtOpenSectionRequest(long RootDirectory, uint DesiredAccess, uint Attributes,
    [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtMapViewOfSection: BaseAddress 0 lets the kernel choose; ViewSize 0 maps to the end of the section.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(62)]
public partial record struct NtMapViewOfSectionRequest(
    long SectionHandle, long ProcessHandle, ulong BaseAddress, ulong ZeroBits, ulong CommitSize, long SectionOffset, ulong ViewSize,
    SectionInherit InheritDisposition, uint AllocationType, uint Win32Protect, uint Reserved) : IRequest<MapViewReply>;

/// <summary>Where the view went and what it covers (the offset and size as the kernel rounded them).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct MapViewReply(ulong BaseAddress, long SectionOffset, ulong ViewSize);

[StructLayout(LayoutKind.Sequential)]
[Syscall(63)]
public partial record struct NtUnmapViewOfSectionRequest(long ProcessHandle, ulong BaseAddress) : IRequest<EmptyReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(64)]
public partial record struct NtQuerySectionRequest(long Handle, SectionInformationClass InformationClass, uint Length) : IRequest<QuerySectionReply>;

/// <summary>SECTION_BASIC_INFORMATION {BaseAddress, AllocationAttributes, MaximumSize}, and the length the class takes.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct QuerySectionReply(ulong BaseAddress, uint AllocationAttributes, uint ReturnLength, long MaximumSize);

[StructLayout(LayoutKind.Sequential)]
[Syscall(65)]
public partial record struct NtQueryVirtualMemoryRequest(long ProcessHandle, ulong BaseAddress, MemoryInformationClass InformationClass, uint Length)
    : IRequest<MemoryBasicInformationReply>;

/// <summary>MEMORY_BASIC_INFORMATION, as NtQueryVirtualMemory(MemoryBasicInformation) fills it.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct MemoryBasicInformationReply(
    ulong BaseAddress, ulong AllocationBase, uint AllocationProtect, uint Reserved, ulong RegionSize, uint State, uint Protect, uint Type, uint Reserved2);

/// <summary>NtFlushVirtualMemory: the range (rounded to pages) that was flushed.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(66)]
public partial record struct NtFlushVirtualMemoryRequest(long ProcessHandle, ulong BaseAddress, ulong RegionSize) : IRequest<FlushVirtualMemoryReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct FlushVirtualMemoryReply(ulong BaseAddress, ulong RegionSize, IoStatusWire IoStatus);

/// <summary>What a View frame asks the client library to do (FrameHeader.Code).</summary>
public enum ViewOperation : ushort
{
    /// <summary>Map the descriptor that comes with the frame at Address (inside the view space), Length bytes from FileOffset.</summary>
    Map = 1,
    /// <summary>Give Address..Address+Length back to the reservation (inaccessible, still reserved).</summary>
    Unmap = 2,
}

/// <summary>The body of a View frame. Protection is a PAGE_* value; a PAGE_WRITECOPY view is a private (copy-on-write) mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ViewInstruction(ulong Address, ulong Length, long FileOffset, uint Protection, uint Reserved);
