using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateMutant, NtOpenMutant, NtReleaseMutant, NtQueryMutant. A mutant belongs to the thread that acquired it.</summary>
internal sealed partial class SystemServices
{
    public void NtCreateMutant(in SyscallContext context, in NtCreateMutantRequest request, NtCreateMutantRequest.Data data)
    {
        var mutant = new KMutant();
        if (request.InitialOwner != 0) _dispatcher.AcquireMutant(mutant, context.Thread);
        CreateNamed(context, mutant, request.RootDirectory, data.ObjectName, request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenMutant(in SyscallContext context, in NtOpenMutantRequest request, NtOpenMutantRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Mutant, request.DesiredAccess);

    public void NtReleaseMutant(in SyscallContext context, in NtReleaseMutantRequest request)
    {
        // Releasing needs no specific right: ownership is the check.
        using var mutant = Reference<KMutant>(context, request.Handle, 0, ObjectTypes.Mutant);
        if (!mutant.Status.IsSuccess) context.Reply.Send(mutant.Status, default(StateReply));
        else if (_dispatcher.ReleaseMutant(mutant.Value, context.Thread) is { } previous) context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(previous, 0));
        else context.Reply.Send(NtStatus.STATUS_MUTANT_NOT_OWNED, default(StateReply));
    }

    /// <summary>MUTANT_BASIC_INFORMATION: {count, owned by the caller, abandoned}.</summary>
    public void NtQueryMutant(in SyscallContext context, in NtQueryMutantRequest request)
    {
        using var mutant = Reference<KMutant>(context, request.Handle, AccessMask.MUTANT_QUERY_STATE, ObjectTypes.Mutant);
        if (Refused(context, mutant.Status, default(QueryStateReply))) return;
        var (count, owned, abandoned) = _dispatcher.QueryMutant(mutant.Value, context.Thread);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new QueryStateReply(count, owned ? 1 : 0, abandoned ? 1 : 0, 0));
    }
}
