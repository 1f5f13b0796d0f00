using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Ke;

/// <summary>NtCreateSemaphore, NtOpenSemaphore, NtReleaseSemaphore, NtQuerySemaphore.</summary>
internal sealed partial class KeServices
{
    private void RegisterSemaphores(ServiceTable table)
    {
        table.Register<NtCreateSemaphoreRequest, HandleReply>(NtCreateSemaphore);
        table.Register<NtOpenSemaphoreRequest, HandleReply>(NtOpenSemaphore);
        table.Register<NtReleaseSemaphoreRequest, StateReply>(NtReleaseSemaphore);
        table.Register<NtQuerySemaphoreRequest, QueryStateReply>(NtQuerySemaphore);
    }

    private void NtCreateSemaphore(in SyscallContext context, in NtCreateSemaphoreRequest request, ReadOnlySpan<byte> data)
    {
        var name = ReadName(data, request.NameBytes, "NtCreateSemaphore");
        if (request.MaximumCount <= 0 || request.InitialCount < 0 || request.InitialCount > request.MaximumCount)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new HandleReply(0));
            return;
        }
        Create(context, new KSemaphore(request.InitialCount, request.MaximumCount), request.RootDirectory, name, request.Attributes, request.DesiredAccess);
    }

    private void NtOpenSemaphore(in SyscallContext context, in NtOpenSemaphoreRequest request, ReadOnlySpan<byte> data) =>
        Open(context, request.RootDirectory, ReadName(data, request.NameBytes, "NtOpenSemaphore"), request.Attributes, ObjectTypes.Semaphore, request.DesiredAccess);

    private void NtReleaseSemaphore(in SyscallContext context, in NtReleaseSemaphoreRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtReleaseSemaphore");
        var status = Reference<KSemaphore>(context, request.Handle, AccessMask.SEMAPHORE_MODIFY_STATE, ObjectTypes.Semaphore, out var semaphore);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new StateReply());
            return;
        }
        if (request.ReleaseCount <= 0)
        {
            ob.Dereference(semaphore!);
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new StateReply());
            return;
        }
        var previous = dispatcher.ReleaseSemaphore(semaphore!, request.ReleaseCount);
        ob.Dereference(semaphore!);
        if (previous is null) context.Reply.Send(NtStatus.STATUS_SEMAPHORE_LIMIT_EXCEEDED, new StateReply());
        else context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(previous.Value, 0));
    }

    private void NtQuerySemaphore(in SyscallContext context, in NtQuerySemaphoreRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtQuerySemaphore");
        var status = Reference<KSemaphore>(context, request.Handle, AccessMask.SEMAPHORE_QUERY_STATE, ObjectTypes.Semaphore, out var semaphore);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new QueryStateReply());
            return;
        }
        var reply = new QueryStateReply(Volatile.Read(ref semaphore!.SignalState), semaphore.Limit, 0, 0);
        ob.Dereference(semaphore);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, reply);
    }
}
