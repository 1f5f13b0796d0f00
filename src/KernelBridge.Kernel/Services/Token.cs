using System.Buffers.Binary;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Services;

/// <summary>NtOpenProcessTokenEx, NtOpenThreadTokenEx and NtAdjustPrivilegesToken.</summary>
internal sealed partial class SystemServices
{
    private const int LuidAndAttributesSize = 12;
    /// <summary>THREAD_QUERY_LIMITED_INFORMATION: what OpenThreadToken needs on the thread.</summary>
    private const uint ThreadQueryLimitedInformation = 0x0800;

    public void NtOpenProcessTokenEx(in SyscallContext context, in NtOpenProcessTokenExRequest request)
    {
        if ((request.HandleAttributes & ~(uint)ObjectAttributeFlags.OBJ_INHERIT) != 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new HandleReply(0));
            return;
        }
        using var process = Reference<ProcessObject>(context, request.ProcessHandle, AccessMask.PROCESS_QUERY_LIMITED_INFORMATION, ObjectTypes.Process);
        if (Refused(context, process.Status, new HandleReply(0))) return;
        var token = process.Value.Token;
        // The caller's token against the token object's own descriptor, as SeAccessCheck does for any open.
        var status = AccessCheck.Check(token.Descriptor, context.Process.Token, ObjectTypes.Token, request.DesiredAccess, out var granted);
        long handle = 0;
        if (status.IsSuccess)
        {
            var attributes = (request.HandleAttributes & (uint)ObjectAttributeFlags.OBJ_INHERIT) != 0 ? HandleAttributes.Inherit : HandleAttributes.None;
            status = _ob.CreateHandle(context.Process, token, granted, attributes, out handle);
        }
        context.Reply.Send(status, new HandleReply(handle));
    }

    public void NtOpenThreadTokenEx(in SyscallContext context, in NtOpenThreadTokenExRequest request)
    {
        using var thread = Reference<ThreadObject>(context, request.ThreadHandle, ThreadQueryLimitedInformation, ObjectTypes.Thread);
        if (Refused(context, thread.Status, new HandleReply(0))) return;
        // No impersonation in KernelBridge: a thread always runs with its process's token.
        context.Reply.Send(NtStatus.STATUS_NO_TOKEN, new HandleReply(0));
    }

    public void NtAdjustPrivilegesToken(in SyscallContext context, in NtAdjustPrivilegesTokenRequest request, NtAdjustPrivilegesTokenRequest.Data data)
    {
        var access = TokenAccess.TOKEN_ADJUST_PRIVILEGES | (request.WantPreviousState != 0 ? TokenAccess.TOKEN_QUERY : 0);
        using var token = Reference<Token>(context, request.TokenHandle, access, ObjectTypes.Token);
        if (Refused(context, token.Status, new NtAdjustPrivilegesTokenReply(0, 0))) return;
        var disableAll = request.DisableAllPrivileges != 0;
        TokenPrivilege[] newState = [];
        if (!disableAll && !TryReadPrivileges(data.NewState, out newState))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new NtAdjustPrivilegesTokenReply(0, 0));
            return;
        }
        // How many entries the caller's PreviousState holds; -1 when not even its count fits.
        int? capacity = request.WantPreviousState == 0 ? null
            : request.PreviousStateLength < 4 ? -1 : (int)((Math.Min(request.PreviousStateLength, 1u << 20) - 4) / LuidAndAttributesSize);
        var previous = new List<TokenPrivilege>();
        var status = token.Value.Adjust(disableAll, newState, capacity, previous);
        var previousLength = (uint)(4 + previous.Count * LuidAndAttributesSize);
        if (status == NtStatus.STATUS_BUFFER_TOO_SMALL || request.WantPreviousState == 0)
        {
            context.Reply.Send(status, new NtAdjustPrivilegesTokenReply(request.WantPreviousState != 0 ? previousLength : 0, 0));
            return;
        }
        var bytes = WritePrivileges(previous);
        context.Reply.Send(status, new NtAdjustPrivilegesTokenReply(previousLength, (uint)bytes.Length), bytes);
    }

    /// <summary>A TOKEN_PRIVILEGES: count, then LUID_AND_ATTRIBUTES; a LUID Windows does not define reads as a privilege nobody holds.</summary>
    private static bool TryReadPrivileges(ReadOnlySpan<byte> bytes, out TokenPrivilege[] privileges)
    {
        privileges = [];
        if (bytes.Length < 4) return false;
        var count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (count > (uint)(bytes.Length - 4) / LuidAndAttributesSize) return false;
        privileges = new TokenPrivilege[count];
        for (var i = 0; i < count; i++)
        {
            var entry = bytes.Slice(4 + i * LuidAndAttributesSize, LuidAndAttributesSize);
            var low = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            var high = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            var luid = high == 0 && Privileges.IsDefined(low) ? (Privilege)low : (Privilege)0;
            privileges[i] = new TokenPrivilege(luid, (PrivilegeAttributes)BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
        }
        return true;
    }

    private static byte[] WritePrivileges(IReadOnlyList<TokenPrivilege> privileges)
    {
        var bytes = new byte[4 + privileges.Count * LuidAndAttributesSize];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)privileges.Count);
        for (var i = 0; i < privileges.Count; i++)
        {
            var entry = bytes.AsSpan(4 + i * LuidAndAttributesSize);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)privileges[i].Privilege);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)privileges[i].Attributes);
        }
        return bytes;
    }
}
