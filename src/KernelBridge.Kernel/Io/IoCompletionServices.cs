using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Io;

/// <summary>NtCreateIoCompletion, NtOpenIoCompletion, NtSetIoCompletion, NtRemoveIoCompletion(Ex), NtQueryIoCompletion.</summary>
internal sealed class IoCompletionServices(IoManager io)
{
    private ObjectManager Ob => io.ObjectManager;
    private readonly Stack<RemoveCompletionCall> _calls = new();

    public void Register(ServiceTable table)
    {
        table.Register<NtCreateIoCompletionRequest, HandleReply>(NtCreateIoCompletion);
        table.Register<NtOpenIoCompletionRequest, HandleReply>(NtOpenIoCompletion);
        table.Register<NtSetIoCompletionRequest, EmptyReply>(NtSetIoCompletion);
        table.Register<NtRemoveIoCompletionRequest, RemoveIoCompletionReply>(NtRemoveIoCompletion);
        table.Register<NtQueryIoCompletionRequest, StateReply>(NtQueryIoCompletion);
    }

    private void NtCreateIoCompletion(in SyscallContext context, in NtCreateIoCompletionRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(request.NameBytes, "ObjectName");
        reader.EnsureEnd("NtCreateIoCompletion");
        // 0 threads means as many as there are processors.
        var concurrency = request.NumberOfConcurrentThreads == 0 ? Environment.ProcessorCount : (int)Math.Min(request.NumberOfConcurrentThreads, int.MaxValue);
        var port = Ob.Track(new KQueue(concurrency));
        var status = Ob.InsertObject(context.Process, context.Thread, port, request.RootDirectory, name, request.Attributes, request.DesiredAccess, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    private void NtOpenIoCompletion(in SyscallContext context, in NtOpenIoCompletionRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(request.NameBytes, "ObjectName");
        reader.EnsureEnd("NtOpenIoCompletion");
        var status = Ob.OpenObjectByName(context.Process, context.Thread, request.RootDirectory, name, request.Attributes,
            ObjectTypes.IoCompletion, request.DesiredAccess, openLink: false, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    private static NtStatus ReferencePort(in SyscallContext context, long handle, uint access, out KQueue? port)
    {
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, handle, access, ObjectTypes.IoCompletion,
            ProcessorMode.UserMode, out var obj, out _);
        port = obj as KQueue;
        return status;
    }

    private void NtSetIoCompletion(in SyscallContext context, in NtSetIoCompletionRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtSetIoCompletion");
        var status = ReferencePort(context, request.Port, AccessMask.IO_COMPLETION_MODIFY_STATE, out var port);
        if (status.IsSuccess)
        {
            io.Dispatcher.InsertQueue(port!, new KQueuePacket(request.KeyContext, request.ApcContext, (NtStatus)request.IoStatus, request.IoStatusInformation));
            Ob.Dereference(port!);
        }
        context.Reply.Send(status);
    }

    private void NtRemoveIoCompletion(in SyscallContext context, in NtRemoveIoCompletionRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtRemoveIoCompletion");
        if (request.Count == 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new RemoveIoCompletionReply());
            return;
        }
        var status = ReferencePort(context, request.Port, AccessMask.IO_COMPLETION_MODIFY_STATE, out var port);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new RemoveIoCompletionReply());
            return;
        }
        RemoveCompletionCall.Rent(_calls, io.Dispatcher, Ob).Start(context, port!, (int)Math.Min(request.Count, 1024), request.Alertable != 0,
            request.HasTimeout != 0 ? request.Timeout : null);
    }

    private void NtQueryIoCompletion(in SyscallContext context, in NtQueryIoCompletionRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtQueryIoCompletion");
        var status = ReferencePort(context, request.Port, AccessMask.IO_COMPLETION_QUERY_STATE, out var port);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new StateReply());
            return;
        }
        var depth = io.Dispatcher.QueueDepth(port!);
        Ob.Dereference(port!);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(depth, 0));
    }
}
