using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Object manager services. Each request is followed on the wire by the variable data its
// *Bytes fields announce, in declaration order; each reply likewise.

/// <summary>NtClose(Handle).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(1)]
public partial record struct NtCloseRequest(long Handle) : IRequest<EmptyReply>;

/// <summary>NtDuplicateObject within (or, with process handles, between) processes.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(6)]
public partial record struct NtDuplicateObjectRequest(
    long SourceProcessHandle, long SourceHandle, long TargetProcessHandle,
    uint DesiredAccess, uint HandleAttributes, uint Options, uint Reserved) : IRequest<NtDuplicateObjectReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct NtDuplicateObjectReply(long TargetHandle);

/// <summary>
/// NtQueryObject. BufferAddress is the caller's buffer: the kernel lays the answer out for that
/// address (UNICODE_STRING.Buffer points into it), as Windows does, and the client copies it in.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(7)]
public partial record struct NtQueryObjectRequest(long Handle, ulong BufferAddress, uint InformationClass, uint Length) : IRequest<NtQueryObjectReply>;

/// <summary>Followed by DataBytes bytes to copy to the start of the caller's buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtQueryObjectReply(uint ReturnLength, [Data("Information")] uint DataBytes);

/// <summary>NtQueryDirectoryObject; the answer is laid out for BufferAddress, like NtQueryObject's.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(8)]
public partial record struct NtQueryDirectoryObjectRequest(
    long Handle, ulong BufferAddress, uint Length, uint ReturnSingleEntry, uint RestartScan, uint Context) : IRequest<NtQueryDirectoryObjectReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct NtQueryDirectoryObjectReply(uint Context, uint ReturnLength, [Data("Information")] uint DataBytes, uint Reserved);

/// <summary>NtOpenDirectoryObject; followed by the name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(12)]
public partial record struct NtOpenDirectoryObjectRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtOpenSymbolicLinkObject; followed by the name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(13)]
public partial record struct NtOpenSymbolicLinkObjectRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtQuerySymbolicLinkObject; MaximumLength is the caller's UNICODE_STRING.MaximumLength.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(14)]
public partial record struct NtQuerySymbolicLinkObjectRequest(long Handle, uint MaximumLength, uint Reserved) : IRequest<NtQuerySymbolicLinkObjectReply>;

/// <summary>Followed by TargetBytes bytes of the target (UTF-16) when the call succeeded.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtQuerySymbolicLinkObjectReply(uint ReturnedLength, [Data("Target", Kind = DataKind.Unicode)] uint TargetBytes);

/// <summary>The reply of services that open or create one handle.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct HandleReply(long Handle);
