using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtWaitForSingleObject, NtWaitForMultipleObjects, NtDelayExecution, NtTestAlert, KbCancelWait. A
/// wait is parked state in the dispatcher; its reply goes out when it ends.
/// </summary>
internal sealed partial class SystemServices
{
    private readonly Ex.LookasideList<WaitCall> _waitCalls;

    /// <summary>What waiting on an object waits for: the object itself, or a file's event.</summary>
    private static DispatcherObject? WaitableOf(KernelObject obj) => obj switch
    {
        DispatcherObject dispatcherObject => dispatcherObject,
        FileObject file => file.Event,
        _ => null,
    };

    public void NtWaitForSingleObject(in SyscallContext context, in NtWaitForSingleObjectRequest request)
    {
        using var obj = Reference<KernelObject>(context, request.Handle, AccessMask.SYNCHRONIZE, null);
        var status = obj.Status;
        var waitable = status.IsSuccess ? WaitableOf(obj.Value) : null;
        if (status.IsSuccess && waitable is null) status = NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new WaitReply());
            return;
        }
        var call = _waitCalls.Allocate();
        call.Add(obj.Share(), waitable!);
        call.Start(context, waitAll: false, request.Alertable != 0, request.HasTimeout != 0 ? request.Timeout : null, delay: false);
    }

    public void NtWaitForMultipleObjects(in SyscallContext context, in NtWaitForMultipleObjectsRequest request, NtWaitForMultipleObjectsRequest.Data data)
    {
        if (request.HandlesSent != NtWaitForMultipleObjectsRequest.HandlesToSend(request.Count))
            throw new ProtocolViolationException($"NtWaitForMultipleObjects: {request.HandlesSent} handles sent for a count of {request.Count}");
        if (request.Count == 0 || request.Count > NtWaitForMultipleObjectsRequest.MaximumWaitObjects)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_1, new WaitReply());
            return;
        }
        if (request.WaitType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_3, new WaitReply());
            return;
        }
        var waitAll = request.WaitType == 0;
        var call = _waitCalls.Allocate();
        var status = ReferenceWaitObjects(context, call, data.Handles, waitAll);
        if (!status.IsSuccess)
        {
            call.Abandon();
            context.Reply.Send(status, new WaitReply());
            return;
        }
        call.Start(context, waitAll, request.Alertable != 0, request.HasTimeout != 0 ? request.Timeout : null, delay: false);
    }

    public void NtDelayExecution(in SyscallContext context, in NtDelayExecutionRequest request) =>
        _waitCalls.Allocate().Start(context, waitAll: false, request.Alertable != 0, request.HasInterval != 0 ? request.Interval : null, delay: true);

    public void NtTestAlert(in SyscallContext context, in NtTestAlertRequest request)
    {
        var apcs = _dispatcher.DrainUserApcs(context.Thread);
        // The APCs run on the way out; the call itself succeeds (STATUS_ALERTED is for alerts, not APCs).
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new WaitReply((uint)apcs.Length, 0), ApcBytes(apcs));
    }

    /// <summary>Ends one of the caller's own waits with STATUS_CANCELLED (an async wait's cancellation).</summary>
    public void KbCancelWait(in SyscallContext context, in KbCancelWaitRequest request)
    {
        if (context.Process.PendingWaits.Remove(request.Sequence, out var wait))
        {
            _dispatcher.AbortWait(wait, NtStatus.STATUS_CANCELLED);
            context.Reply.Send(NtStatus.STATUS_SUCCESS);
        }
        else context.Reply.Send(NtStatus.STATUS_NOT_FOUND);
    }

    /// <summary>
    /// The handles of a multiple-object wait, referenced into <paramref name="call"/>: each needs
    /// SYNCHRONIZE and a waitable object, and the same object twice cannot be waited for all at once.
    /// </summary>
    private NtStatus ReferenceWaitObjects<TCall>(in SyscallContext context, TCall call, ReadOnlySpan<long> handles, bool waitAll)
        where TCall : IWaitObjects
    {
        var repeated = false;
        foreach (var handle in handles)
        {
            using var obj = Reference<KernelObject>(context, handle, AccessMask.SYNCHRONIZE, null);
            if (!obj.Status.IsSuccess) return obj.Status;
            if (WaitableOf(obj.Value) is not { } waitable) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            repeated |= waitAll && call.Contains(waitable);
            call.Add(obj.Share(), waitable);
        }
        return repeated ? NtStatus.STATUS_INVALID_PARAMETER_MIX : NtStatus.STATUS_SUCCESS;
    }
}
