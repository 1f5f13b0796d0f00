using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>The token services: open a process's token, query it, adjust its privileges.</summary>
public static unsafe partial class Ntdll
{
    public static NtStatus NtOpenProcessToken(nint processHandle, uint desiredAccess, nint* tokenHandle) =>
        NtOpenProcessTokenEx(null, processHandle, desiredAccess, 0, tokenHandle);

    public static NtStatus NtOpenProcessTokenEx(nint processHandle, uint desiredAccess, uint handleAttributes, nint* tokenHandle) =>
        NtOpenProcessTokenEx(null, processHandle, desiredAccess, handleAttributes, tokenHandle);

    internal static NtStatus NtOpenProcessTokenEx(GateClient? gate, nint processHandle, uint desiredAccess, uint handleAttributes, nint* tokenHandle)
    {
        if (!BeginOpen(ref gate, tokenHandle, out var status)) return status;
        status = Syscalls.NtOpenProcessTokenEx(gate, new NtOpenProcessTokenExRequest(processHandle, desiredAccess, handleAttributes), out var reply);
        return HandleOut(tokenHandle, status, reply);
    }

    /// <summary>NtOpenThreadToken: STATUS_NO_TOKEN, since no thread impersonates here.</summary>
    public static NtStatus NtOpenThreadToken(nint threadHandle, uint desiredAccess, bool openAsSelf, nint* tokenHandle) =>
        NtOpenThreadTokenEx(threadHandle, desiredAccess, openAsSelf, 0, tokenHandle);

    public static NtStatus NtOpenThreadTokenEx(nint threadHandle, uint desiredAccess, bool openAsSelf, uint handleAttributes, nint* tokenHandle)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, tokenHandle, out var status)) return status;
        status = Syscalls.NtOpenThreadTokenEx(gate, new NtOpenThreadTokenExRequest(threadHandle, desiredAccess, openAsSelf ? 1u : 0, handleAttributes, 0), out var reply);
        return HandleOut(tokenHandle, status, reply);
    }

    /// <summary>NtQueryInformationToken: the answer is laid out for <paramref name="buffer"/>'s address (its pointers point into it), as on Windows.</summary>
    public static NtStatus NtQueryInformationToken(nint tokenHandle, TokenInformationClass informationClass, void* buffer, uint length, uint* returnLength) =>
        NtQueryInformationToken(null, tokenHandle, informationClass, buffer, length, returnLength);

    internal static NtStatus NtQueryInformationToken(GateClient? gate, nint tokenHandle, TokenInformationClass informationClass, void* buffer, uint length,
        uint* returnLength)
    {
        if (returnLength is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (buffer is null && length != 0) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtQueryInformationToken(gate, new NtQueryInformationTokenRequest(tokenHandle, (ulong)buffer, (uint)informationClass, length));
        var reply = answer.Reply;
        status = answer.Status;
        var information = NtQueryInformationTokenReply.ReadData(in reply, answer.Data).Information;
        if (buffer is not null) information[..Math.Min(information.Length, (int)length)].CopyTo(new Span<byte>(buffer, (int)length));
        if (status.IsSuccess || status == NtStatus.STATUS_BUFFER_TOO_SMALL) *returnLength = reply.ReturnLength;
        return status;
    }

    /// <summary>
    /// NtAdjustPrivilegesToken. <paramref name="newState"/> is a TOKEN_PRIVILEGES of any size;
    /// <paramref name="previousState"/> (optional, <paramref name="bufferLength"/> bytes) receives what changed.
    /// STATUS_NOT_ALL_ASSIGNED (a success code) when a listed privilege is not held.
    /// </summary>
    public static NtStatus NtAdjustPrivilegesToken(nint tokenHandle, bool disableAllPrivileges, TOKEN_PRIVILEGES* newState, uint bufferLength,
        TOKEN_PRIVILEGES* previousState, uint* returnLength) =>
        NtAdjustPrivilegesToken(null, tokenHandle, disableAllPrivileges, newState, bufferLength, previousState, returnLength);

    internal static NtStatus NtAdjustPrivilegesToken(GateClient? gate, nint tokenHandle, bool disableAllPrivileges, TOKEN_PRIVILEGES* newState,
        uint bufferLength, TOKEN_PRIVILEGES* previousState, uint* returnLength)
    {
        if (!disableAllPrivileges && newState is null) return NtStatus.STATUS_INVALID_PARAMETER;
        if (previousState is not null && returnLength is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        var newBytes = ReadOnlySpan<byte>.Empty;
        if (!disableAllPrivileges)
        {
            var count = newState->PrivilegeCount;
            if (count > 64) return NtStatus.STATUS_INVALID_PARAMETER;
            newBytes = new ReadOnlySpan<byte>(newState, (int)(4 + count * 12));
        }
        using var answer = Syscalls.NtAdjustPrivilegesToken(gate,
            new NtAdjustPrivilegesTokenRequest(tokenHandle, disableAllPrivileges ? 1u : 0, previousState is not null ? 1u : 0, bufferLength, 0), new(newBytes));
        var reply = answer.Reply;
        status = answer.Status;
        var previous = NtAdjustPrivilegesTokenReply.ReadData(in reply, answer.Data).PreviousState;
        if (previousState is not null && status.IsSuccess) previous[..Math.Min(previous.Length, (int)bufferLength)].CopyTo(new Span<byte>(previousState, (int)bufferLength));
        if (returnLength is not null && (status.IsSuccess || status == NtStatus.STATUS_BUFFER_TOO_SMALL)) *returnLength = reply.ReturnLength;
        return status;
    }

    /// <summary>
    /// RtlAdjustPrivilege: enables or disables one privilege of the process token (the thread's is
    /// never there: STATUS_NO_TOKEN). STATUS_PRIVILEGE_NOT_HELD when the token lacks it.
    /// </summary>
    public static NtStatus RtlAdjustPrivilege(Privilege privilege, bool enable, bool currentThread, bool* wasEnabled)
    {
        if (currentThread) return NtStatus.STATUS_NO_TOKEN;
        nint token;
        var status = NtOpenProcessToken(PseudoHandles.CurrentProcess, TokenAccess.TOKEN_ADJUST_PRIVILEGES | TokenAccess.TOKEN_QUERY, &token);
        if (!status.IsSuccess) return status;
        try
        {
            TOKEN_PRIVILEGES wanted = default, previous = default;
            wanted.PrivilegeCount = 1;
            wanted.Privileges.Luid.LowPart = (uint)privilege;
            wanted.Privileges.Attributes = enable ? (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED : 0;
            uint length;
            status = NtAdjustPrivilegesToken(token, false, &wanted, (uint)sizeof(TOKEN_PRIVILEGES), &previous, &length);
            if (status == NtStatus.STATUS_NOT_ALL_ASSIGNED) return NtStatus.STATUS_PRIVILEGE_NOT_HELD;
            if (!status.IsSuccess) return status;
            // Nothing changed means it already was as asked.
            if (wasEnabled is not null) *wasEnabled = previous.PrivilegeCount == 0 ? enable : (previous.Privileges.Attributes & (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED) != 0;
            return status;
        }
        finally
        {
            NtClose(token);
        }
    }

    /// <summary>
    /// What Windows loader tools do before NtLoadDriver: enable SeLoadDriverPrivilege, which an
    /// administrator's token holds disabled. Failure is left for the kernel to report
    /// (STATUS_PRIVILEGE_NOT_HELD for a token without it).
    /// </summary>
    internal static void TryEnableLoadDriverPrivilege(GateClient gate)
    {
        nint token;
        if (!NtOpenProcessTokenEx(gate, PseudoHandles.CurrentProcess, TokenAccess.TOKEN_ADJUST_PRIVILEGES, 0, &token).IsSuccess) return;
        TOKEN_PRIVILEGES wanted = default;
        wanted.PrivilegeCount = 1;
        wanted.Privileges.Luid.LowPart = (uint)Privilege.SeLoadDriverPrivilege;
        wanted.Privileges.Attributes = (uint)PrivilegeAttributes.SE_PRIVILEGE_ENABLED;
        NtAdjustPrivilegesToken(gate, token, false, &wanted, 0, null, null);
        NtClose(gate, token);
    }
}
