using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Object manager services. Each request is followed on the wire by the variable data its
// *Bytes fields announce, in declaration order; each reply likewise.

/// <summary>NtClose(Handle).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtCloseRequest(long Handle) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtClose;
}

/// <summary>NtDuplicateObject within (or, with process handles, between) processes.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtDuplicateObjectRequest(
    long SourceProcessHandle, long SourceHandle, long TargetProcessHandle,
    uint DesiredAccess, uint HandleAttributes, uint Options, uint Reserved) : IRequest<NtDuplicateObjectReply>
{
    public static Syscall Number => Syscall.NtDuplicateObject;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtDuplicateObjectReply(long TargetHandle);

/// <summary>
/// NtQueryObject. BufferAddress is the caller's buffer: the kernel lays the answer out for that
/// address (UNICODE_STRING.Buffer points into it), as Windows does, and the client copies it in.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryObjectRequest(long Handle, ulong BufferAddress, uint InformationClass, uint Length) : IRequest<NtQueryObjectReply>
{
    public static Syscall Number => Syscall.NtQueryObject;
}

/// <summary>Followed by DataBytes bytes to copy to the start of the caller's buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryObjectReply(uint ReturnLength, uint DataBytes);

/// <summary>NtQueryDirectoryObject; the answer is laid out for BufferAddress, like NtQueryObject's.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryDirectoryObjectRequest(
    long Handle, ulong BufferAddress, uint Length, uint ReturnSingleEntry, uint RestartScan, uint Context) : IRequest<NtQueryDirectoryObjectReply>
{
    public static Syscall Number => Syscall.NtQueryDirectoryObject;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryDirectoryObjectReply(uint Context, uint ReturnLength, uint DataBytes, uint Reserved);

/// <summary>NtOpenDirectoryObject; followed by the name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenDirectoryObjectRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenDirectoryObject;
}

/// <summary>NtOpenSymbolicLinkObject; followed by the name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenSymbolicLinkObjectRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenSymbolicLinkObject;
}

/// <summary>NtQuerySymbolicLinkObject; MaximumLength is the caller's UNICODE_STRING.MaximumLength.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQuerySymbolicLinkObjectRequest(long Handle, uint MaximumLength, uint Reserved) : IRequest<NtQuerySymbolicLinkObjectReply>
{
    public static Syscall Number => Syscall.NtQuerySymbolicLinkObject;
}

/// <summary>Followed by TargetBytes bytes of the target (UTF-16) when the call succeeded.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtQuerySymbolicLinkObjectReply(uint ReturnedLength, uint TargetBytes);

/// <summary>The reply of services that open or create one handle.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct HandleReply(long Handle);
