using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateSemaphore, NtOpenSemaphore, NtReleaseSemaphore, NtQuerySemaphore.</summary>
internal sealed partial class SystemServices
{
    public void NtCreateSemaphore(in SyscallContext context, in NtCreateSemaphoreRequest request, NtCreateSemaphoreRequest.Data data)
    {
        if (request.MaximumCount <= 0 || request.InitialCount < 0 || request.InitialCount > request.MaximumCount)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new HandleReply(0));
            return;
        }
        CreateNamed(context, new KSemaphore(request.InitialCount, request.MaximumCount), request.RootDirectory, data.ObjectName,
            request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenSemaphore(in SyscallContext context, in NtOpenSemaphoreRequest request, NtOpenSemaphoreRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Semaphore, request.DesiredAccess);

    public void NtReleaseSemaphore(in SyscallContext context, in NtReleaseSemaphoreRequest request)
    {
        using var semaphore = Reference<KSemaphore>(context, request.Handle, AccessMask.SEMAPHORE_MODIFY_STATE, ObjectTypes.Semaphore);
        if (Refused(context, semaphore.Status, default(StateReply))) return;
        if (request.ReleaseCount <= 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, default(StateReply));
            return;
        }
        // Past the maximum nothing changes and the previous count is not reported.
        if (_dispatcher.ReleaseSemaphore(semaphore.Value, request.ReleaseCount) is { } previous)
            context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(previous, 0));
        else context.Reply.Send(NtStatus.STATUS_SEMAPHORE_LIMIT_EXCEEDED, default(StateReply));
    }

    /// <summary>SEMAPHORE_BASIC_INFORMATION: {count, maximum}.</summary>
    public void NtQuerySemaphore(in SyscallContext context, in NtQuerySemaphoreRequest request)
    {
        using var semaphore = Reference<KSemaphore>(context, request.Handle, AccessMask.SEMAPHORE_QUERY_STATE, ObjectTypes.Semaphore);
        context.Reply.Send(semaphore.Status, semaphore.Status.IsSuccess
            ? new QueryStateReply(_dispatcher.ReadState(semaphore.Value), semaphore.Value.Limit, 0, 0)
            : default);
    }
}
