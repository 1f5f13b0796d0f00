using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// NtWaitForSingleObject, NtWaitForMultipleObjects, NtDelayExecution, NtTestAlert, NtQueueApcThread,
/// NtOpenThread. A wait is parked state in the dispatcher; its reply goes out when it ends.
/// </summary>
internal sealed partial class KeServices
{
    public const int MaximumWaitObjects = 64;

    private void RegisterWaits(ServiceTable table)
    {
        table.Register<NtWaitForSingleObjectRequest, WaitReply>(NtWaitForSingleObject);
        table.Register<NtWaitForMultipleObjectsRequest, WaitReply>(NtWaitForMultipleObjects);
        table.Register<NtDelayExecutionRequest, WaitReply>(NtDelayExecution);
        table.Register<NtTestAlertRequest, WaitReply>(NtTestAlert);
        table.Register<NtQueueApcThreadRequest, EmptyReply>(NtQueueApcThread);
        table.Register<NtOpenThreadRequest, HandleReply>(NtOpenThread);
        table.Register<KbCancelWaitRequest, EmptyReply>(KbCancelWait);
    }

    /// <summary>What waiting on an object waits for: the object itself, or a file's event.</summary>
    private static DispatcherObject? WaitableOf(KernelObject obj) => obj switch
    {
        DispatcherObject dispatcherObject => dispatcherObject,
        FileObject file => file.Event,
        _ => null,
    };

    private void NtWaitForSingleObject(in SyscallContext context, in NtWaitForSingleObjectRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtWaitForSingleObject");
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, request.Handle, AccessMask.SYNCHRONIZE, null,
            ProcessorMode.UserMode, out var obj, out _);
        if (status.IsSuccess && WaitableOf(obj!) is null)
        {
            ob.Dereference(obj!);
            status = NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new WaitReply());
            return;
        }
        StartWait(context, [obj!], waitAll: false, request.Alertable != 0, request.HasTimeout != 0 ? request.Timeout : null, delay: false);
    }

    private void NtWaitForMultipleObjects(in SyscallContext context, in NtWaitForMultipleObjectsRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var count = Math.Min(request.Count, (uint)MaximumWaitObjects + 1);
        var handles = MemoryMarshal.Cast<byte, long>(reader.Take(count * 8, "Handles")).ToArray();
        reader.EnsureEnd("NtWaitForMultipleObjects");
        if (request.Count == 0 || request.Count > MaximumWaitObjects)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_1, new WaitReply());
            return;
        }
        if (request.WaitType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_3, new WaitReply());
            return;
        }
        var objects = new KernelObject[handles.Length];
        var status = NtStatus.STATUS_SUCCESS;
        var referenced = 0;
        for (; referenced < handles.Length; referenced++)
        {
            status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, handles[referenced], AccessMask.SYNCHRONIZE, null,
                ProcessorMode.UserMode, out var obj, out _);
            if (!status.IsSuccess) break;
            objects[referenced] = obj!;
            if (WaitableOf(obj!) is null)
            {
                referenced++;
                status = NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
                break;
            }
        }
        var waitAll = request.WaitType == 0;
        if (status.IsSuccess && waitAll)
        {
            // The same object twice cannot be waited for all at once.
            var seen = new HashSet<DispatcherObject>(ReferenceEqualityComparer.Instance);
            foreach (var obj in objects)
                if (!seen.Add(WaitableOf(obj)!)) status = NtStatus.STATUS_INVALID_PARAMETER_MIX;
        }
        if (!status.IsSuccess)
        {
            for (var i = 0; i < referenced; i++) ob.Dereference(objects[i]);
            context.Reply.Send(status, new WaitReply());
            return;
        }
        StartWait(context, objects, waitAll, request.Alertable != 0, request.HasTimeout != 0 ? request.Timeout : null, delay: false);
    }

    private void NtDelayExecution(in SyscallContext context, in NtDelayExecutionRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtDelayExecution");
        StartWait(context, [], waitAll: false, request.Alertable != 0, request.HasInterval != 0 ? request.Interval : null, delay: true);
    }

    private void NtTestAlert(in SyscallContext context, in NtTestAlertRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtTestAlert");
        var apcs = dispatcher.DrainUserApcs(context.Thread);
        // The APCs run on the way out; the call itself succeeds (STATUS_ALERTED is for alerts, not APCs).
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new WaitReply((uint)apcs.Length, 0), ApcBytes(apcs));
    }

    /// <summary>Parks the wait; the reply (with any APCs to run) goes out when it ends. The objects stay referenced until then.</summary>
    private void StartWait(in SyscallContext context, KernelObject[] objects, bool waitAll, bool alertable, long? timeout, bool delay)
    {
        var call = WaitCall.Rent(_waitCalls, dispatcher, ob);
        foreach (var obj in objects) call.Add(obj, WaitableOf(obj)!);
        call.Start(context, waitAll, alertable, timeout, delay);
    }

    private readonly Stack<WaitCall> _waitCalls = new();

    /// <summary>Ends one of the caller's own waits with STATUS_CANCELLED (an async wait's cancellation).</summary>
    private void KbCancelWait(in SyscallContext context, in KbCancelWaitRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("KbCancelWait");
        if (context.Process.PendingWaits.Remove(request.Sequence, out var waiter))
        {
            dispatcher.AbortWait(waiter, NtStatus.STATUS_CANCELLED);
            context.Reply.Send(NtStatus.STATUS_SUCCESS);
        }
        else context.Reply.Send(NtStatus.STATUS_NOT_FOUND);
    }

    private void NtQueueApcThread(in SyscallContext context, in NtQueueApcThreadRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtQueueApcThread");
        var status = Reference<ThreadObject>(context, request.Thread, AccessMask.THREAD_SET_CONTEXT, ObjectTypes.Thread, out var thread);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status);
            return;
        }
        if (request.Routine == 0) status = NtStatus.STATUS_INVALID_PARAMETER;
        else dispatcher.QueueUserApc(thread!, new KUserApc(request.Routine, request.Argument1, request.Argument2, request.Argument3));
        ob.Dereference(thread!);
        context.Reply.Send(status);
    }

    private void NtOpenThread(in SyscallContext context, in NtOpenThreadRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtOpenThread");
        if (request.ThreadId <= 0 || request.ThreadId > int.MaxValue || !context.Process.Threads.TryGetValue((int)request.ThreadId, out var thread))
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_CID, new HandleReply(0));
            return;
        }
        var status = Se.AccessCheck.Check(ObjectTypes.Thread, request.DesiredAccess, out var granted);
        long handle = 0;
        if (status.IsSuccess)
            status = ob.CreateHandle(context.Process, thread, granted,
                (request.Attributes & (uint)ObjectAttributeFlags.OBJ_INHERIT) != 0 ? HandleAttributes.Inherit : HandleAttributes.None, out handle);
        context.Reply.Send(status, new HandleReply(handle));
    }
}
