using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateIoCompletion, NtOpenIoCompletion, NtSetIoCompletion, NtRemoveIoCompletion(Ex), NtQueryIoCompletion.</summary>
internal sealed partial class SystemServices
{
    private readonly Ex.LookasideList<RemoveCompletionCall> _removeCalls;

    public void NtCreateIoCompletion(in SyscallContext context, in NtCreateIoCompletionRequest request, NtCreateIoCompletionRequest.Data data)
    {
        // 0 threads means as many as there are processors.
        var concurrency = request.NumberOfConcurrentThreads == 0 ? Environment.ProcessorCount : (int)Math.Min(request.NumberOfConcurrentThreads, int.MaxValue);
        CreateNamed(context, new KQueue(concurrency), request.RootDirectory, data.ObjectName, request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenIoCompletion(in SyscallContext context, in NtOpenIoCompletionRequest request, NtOpenIoCompletionRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.IoCompletion, request.DesiredAccess);

    /// <summary>PostQueuedCompletionStatus: a packet queued by hand.</summary>
    public void NtSetIoCompletion(in SyscallContext context, in NtSetIoCompletionRequest request)
    {
        using var port = Reference<KQueue>(context, request.Port, AccessMask.IO_COMPLETION_MODIFY_STATE, ObjectTypes.IoCompletion);
        if (!port.Status.IsSuccess)
        {
            context.Reply.Send(port.Status);
            return;
        }
        // The packet is pool charged to the poster (IoSetIoCompletion with Quota): past its quota,
        // STATUS_QUOTA_EXCEEDED, what a failed process quota charge returns. It is returned when the packet leaves the port.
        var quota = context.Process.Quota;
        if (!quota.TryChargeCompletionPacket())
        {
            context.Reply.Send(NtStatus.STATUS_QUOTA_EXCEEDED);
            return;
        }
        _dispatcher.InsertQueue(port.Value, new KQueuePacket(request.KeyContext, request.ApcContext, (NtStatus)request.IoStatus, request.IoStatusInformation, quota));
        context.Reply.Send(NtStatus.STATUS_SUCCESS);
    }

    public void NtRemoveIoCompletion(in SyscallContext context, in NtRemoveIoCompletionRequest request)
    {
        if (request.Count == 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new RemoveIoCompletionReply());
            return;
        }
        using var port = Reference<KQueue>(context, request.Port, AccessMask.IO_COMPLETION_MODIFY_STATE, ObjectTypes.IoCompletion);
        if (Refused(context, port.Status, new RemoveIoCompletionReply())) return;
        _removeCalls.Allocate().Start(context, port.Share(), (int)Math.Min(request.Count, RemoveIoCompletionReply.MaxPackets), request.Alertable != 0,
            request.HasTimeout != 0 ? request.Timeout : null);
    }

    /// <summary>IO_COMPLETION_BASIC_INFORMATION: how many packets wait.</summary>
    public void NtQueryIoCompletion(in SyscallContext context, in NtQueryIoCompletionRequest request)
    {
        using var port = Reference<KQueue>(context, request.Port, AccessMask.IO_COMPLETION_QUERY_STATE, ObjectTypes.IoCompletion);
        context.Reply.Send(port.Status, new StateReply(port.Status.IsSuccess ? _dispatcher.QueueDepth(port.Value) : 0, 0));
    }
}
