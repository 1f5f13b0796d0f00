using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Security services: access tokens (syscalls 120-129).

/// <summary>NtOpenProcessTokenEx (NtOpenProcessToken is the same with no attributes); ProcessHandle may be NtCurrentProcess() (-1).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(120)]
public partial record struct NtOpenProcessTokenExRequest(long ProcessHandle, uint DesiredAccess, uint HandleAttributes) : IRequest<HandleReply>;

/// <summary>NtOpenThreadTokenEx: KernelBridge has no impersonation, so a thread never has a token (STATUS_NO_TOKEN).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(121)]
public partial record struct NtOpenThreadTokenExRequest(long ThreadHandle, uint DesiredAccess, uint OpenAsSelf, uint HandleAttributes, uint Reserved)
    : IRequest<HandleReply>;

/// <summary>
/// NtQueryInformationToken. BufferAddress is the caller's buffer: the kernel lays the x64 structure
/// out for that address (the PSID and PACL pointers inside point into it), as NtQueryObject does,
/// and the client copies the bytes in. With BufferAddress 0 the pointers are offsets from the start.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(122)]
public partial record struct NtQueryInformationTokenRequest(long TokenHandle, ulong BufferAddress, uint InformationClass, uint Length)
    : IRequest<NtQueryInformationTokenReply>;

/// <summary>Followed by DataBytes bytes to copy to the start of the caller's buffer; ReturnLength is the size the answer needs.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtQueryInformationTokenReply(uint ReturnLength, [Data("Information")] uint DataBytes);

/// <summary>
/// NtAdjustPrivilegesToken. Followed by NewState: a TOKEN_PRIVILEGES (count, then 12-byte
/// LUID_AND_ATTRIBUTES entries). PreviousStateLength is the caller's PreviousState buffer size;
/// WantPreviousState says whether it gave one.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(123)]
public partial record struct NtAdjustPrivilegesTokenRequest(
    long TokenHandle, uint DisableAllPrivileges, uint WantPreviousState, uint PreviousStateLength, [Data("NewState", MaxCount = 65535)] uint NewStateBytes)
    : IRequest<NtAdjustPrivilegesTokenReply>;

/// <summary>Followed by PreviousState (a TOKEN_PRIVILEGES) when the caller asked for it; ReturnLength is its size.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct NtAdjustPrivilegesTokenReply(uint ReturnLength, [Data("PreviousState")] uint PreviousStateBytes);
