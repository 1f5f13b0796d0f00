using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Security descriptors of objects (syscalls 130-139). A descriptor travels self-relative
// (SECURITY_DESCRIPTOR_RELATIVE), as NtQuerySecurityObject returns it on Windows.

/// <summary>
/// NtQuerySecurityObject: the parts SecurityInformation names (OWNER_SECURITY_INFORMATION, ...) of
/// the object's descriptor, if it fits in Length bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(130)]
public partial record struct NtQuerySecurityObjectRequest(long Handle, uint SecurityInformation, uint Length) : IRequest<NtQuerySecurityObjectReply>;

/// <summary>LengthNeeded is set on success and on STATUS_BUFFER_TOO_SMALL; the descriptor follows on success.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtQuerySecurityObjectReply(uint LengthNeeded, [Data("Descriptor")] uint DescriptorBytes);

/// <summary>NtSetSecurityObject: the parts SecurityInformation names are taken from the descriptor that follows.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(131)]
public partial record struct NtSetSecurityObjectRequest(long Handle, uint SecurityInformation, [Data("Descriptor")] uint DescriptorBytes, uint Reserved)
    : IRequest<EmptyReply>;

/// <summary>NtCreateDirectoryObject; followed by the name (UTF-16) and the security descriptor (none if empty).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(132)]
public partial record struct NtCreateDirectoryObjectRequest(long RootDirectory, uint DesiredAccess, uint Attributes,
    [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes, uint Reserved)
    : IRequest<HandleReply>;

/// <summary>
/// KernelBridge's own (for tools such as `kbridge obj --sd`): NtQuerySecurityObject on the object a
/// name leads to (symbolic links themselves, not their targets), without a handle. The caller needs
/// READ_CONTROL on it, as an open for READ_CONTROL would. Followed by the name (UTF-16).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(133)]
public partial record struct KbQuerySecurityObjectByNameRequest(uint SecurityInformation, uint Length,
    [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<NtQuerySecurityObjectReply>;
