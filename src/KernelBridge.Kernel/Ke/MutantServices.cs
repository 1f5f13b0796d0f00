using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Ke;

/// <summary>NtCreateMutant, NtOpenMutant, NtReleaseMutant, NtQueryMutant. A mutant belongs to the thread that acquired it.</summary>
internal sealed partial class KeServices
{
    private void RegisterMutants(ServiceTable table)
    {
        table.Register<NtCreateMutantRequest, HandleReply>(NtCreateMutant);
        table.Register<NtOpenMutantRequest, HandleReply>(NtOpenMutant);
        table.Register<NtReleaseMutantRequest, StateReply>(NtReleaseMutant);
        table.Register<NtQueryMutantRequest, QueryStateReply>(NtQueryMutant);
    }

    private void NtCreateMutant(in SyscallContext context, in NtCreateMutantRequest request, ReadOnlySpan<byte> data)
    {
        var name = ReadName(data, request.NameBytes, "NtCreateMutant");
        var mutant = new KMutant();
        if (request.InitialOwner != 0) dispatcher.AcquireMutant(mutant, context.Thread);
        Create(context, mutant, request.RootDirectory, name, request.Attributes, request.DesiredAccess);
    }

    private void NtOpenMutant(in SyscallContext context, in NtOpenMutantRequest request, ReadOnlySpan<byte> data) =>
        Open(context, request.RootDirectory, ReadName(data, request.NameBytes, "NtOpenMutant"), request.Attributes, ObjectTypes.Mutant, request.DesiredAccess);

    private void NtReleaseMutant(in SyscallContext context, in NtReleaseMutantRequest request, ReadOnlySpan<byte> data)
    {
        // Releasing needs no specific right: ownership is the check.
        var thread = context.Thread;
        Operate<KMutant, StateReply>(context, request.Handle, 0, ObjectTypes.Mutant, data, "NtReleaseMutant",
            mutant => dispatcher.ReleaseMutant(mutant, thread) is { } previous
                ? (NtStatus.STATUS_SUCCESS, new StateReply(previous, 0))
                : (NtStatus.STATUS_MUTANT_NOT_OWNED, default));
    }

    private void NtQueryMutant(in SyscallContext context, in NtQueryMutantRequest request, ReadOnlySpan<byte> data)
    {
        var thread = context.Thread;
        Operate<KMutant, QueryStateReply>(context, request.Handle, AccessMask.MUTANT_QUERY_STATE, ObjectTypes.Mutant, data, "NtQueryMutant",
            mutant => (NtStatus.STATUS_SUCCESS, new QueryStateReply(dispatcher.ReadState(mutant),
                dispatcher.IsOwnedBy(mutant, thread) ? 1 : 0, mutant.Abandoned ? 1 : 0, 0)));
    }
}
