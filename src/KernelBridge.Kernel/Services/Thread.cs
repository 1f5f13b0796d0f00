using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>NtOpenThread and NtQueueApcThread.</summary>
internal sealed partial class SystemServices
{
    public void NtQueueApcThread(in SyscallContext context, in NtQueueApcThreadRequest request)
    {
        using var thread = Reference<ThreadObject>(context, request.Thread, AccessMask.THREAD_SET_CONTEXT, ObjectTypes.Thread);
        var status = thread.Status;
        if (status.IsSuccess)
        {
            if (request.Routine == 0) status = NtStatus.STATUS_INVALID_PARAMETER;
            else _dispatcher.QueueUserApc(thread.Value, new KUserApc(request.Routine, request.Argument1, request.Argument2, request.Argument3));
        }
        context.Reply.Send(status);
    }

    /// <summary>NtOpenThread by CLIENT_ID's thread id: threads of the caller's own process.</summary>
    public void NtOpenThread(in SyscallContext context, in NtOpenThreadRequest request)
    {
        if (request.ThreadId <= 0 || request.ThreadId > int.MaxValue || !context.Process.Threads.TryGetValue((int)request.ThreadId, out var thread))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_CID, new HandleReply(0));
            return;
        }
        var status = Se.AccessCheck.Check(ObjectTypes.Thread, request.DesiredAccess, out var granted);
        long handle = 0;
        if (status.IsSuccess) status = _ob.CreateHandle(context.Process, thread, granted, HandleAttributesOf(request.Attributes), out handle);
        context.Reply.Send(status, new HandleReply(handle));
    }
}
