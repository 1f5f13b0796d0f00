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
        var count = request.ReleaseCount;
        Operate<KSemaphore, StateReply>(context, request.Handle, AccessMask.SEMAPHORE_MODIFY_STATE, ObjectTypes.Semaphore, data, "NtReleaseSemaphore",
            semaphore =>
            {
                if (count <= 0) return (NtStatus.STATUS_INVALID_PARAMETER, default);
                // Past the maximum nothing changes and the previous count is not reported.
                return dispatcher.ReleaseSemaphore(semaphore, count) is { } previous
                    ? (NtStatus.STATUS_SUCCESS, new StateReply(previous, 0))
                    : (NtStatus.STATUS_SEMAPHORE_LIMIT_EXCEEDED, default);
            });
    }

    private void NtQuerySemaphore(in SyscallContext context, in NtQuerySemaphoreRequest request, ReadOnlySpan<byte> data) =>
        Operate<KSemaphore, QueryStateReply>(context, request.Handle, AccessMask.SEMAPHORE_QUERY_STATE, ObjectTypes.Semaphore, data, "NtQuerySemaphore",
            semaphore => (NtStatus.STATUS_SUCCESS, new QueryStateReply(Volatile.Read(ref semaphore.SignalState), semaphore.Limit, 0, 0)));
}
