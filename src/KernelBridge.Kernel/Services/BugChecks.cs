using System.Text;
using KernelBridge.Abi.Diagnostics;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Abi.Security;

namespace KernelBridge.Kernel.Services;

/// <summary>KbQueryBugChecks: the bug-check records `kbridge bugcheck` lists; clearing them needs SeLoadDriverPrivilege.</summary>
internal sealed partial class SystemServices
{
    public void KbQueryBugChecks(in SyscallContext context, in KbQueryBugChecksRequest request)
    {
        if ((request.Flags & ~BugCheckQueryFlags.Clear) != 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER);
            return;
        }
        var clear = (request.Flags & BugCheckQueryFlags.Clear) != 0;
        if (clear && !context.Process.Token.HasPrivilege(Privilege.SeLoadDriverPrivilege))
        {
            context.Reply.Send(NtStatus.STATUS_PRIVILEGE_NOT_HELD);
            return;
        }
        var bugCheck = _io.BugCheck;
        var (records, total) = bugCheck.Snapshot();
        if (clear) bugCheck.Clear();
        var json = Encoding.UTF8.GetBytes(BugCheckRecord.ListToJson(records));
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new KbBugChecksReply((uint)records.Length, (uint)total, (uint)json.Length), json);
    }
}
