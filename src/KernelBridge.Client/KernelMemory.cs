using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client;

/// <summary>The kernel process's memory (KbQueryKernelMemory).</summary>
public sealed record KernelMemory(long ResidentBytes, long ManagedHeapBytes, long HeapAfterLastCollectionBytes, long CommittedBytes, long AllocatedBytes,
    int Gen0Collections, int Gen1Collections, int Gen2Collections)
{
    public static KernelMemory Query(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        var status = Syscalls.KbQueryKernelMemory(gate, new KbQueryKernelMemoryRequest(0), out var r);
        NtStatusException.ThrowIfFailed(status, "KbQueryKernelMemory");
        return new KernelMemory(r.ResidentBytes, r.ManagedHeapBytes, r.HeapAfterLastCollectionBytes, r.CommittedBytes, r.AllocatedBytes,
            r.Gen0Collections, r.Gen1Collections, r.Gen2Collections);
    }
}
