using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>KbQueryKernelMemory: what the kernel process holds (read-only; it never collects on a client's behalf).</summary>
internal sealed partial class SystemServices
{
    public void KbQueryKernelMemory(in SyscallContext context, in KbQueryKernelMemoryRequest request)
    {
        var info = GC.GetGCMemoryInfo();
        var reply = new KbKernelMemoryReply(Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: false), info.HeapSizeBytes, info.TotalCommittedBytes,
            GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), 0);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, in reply);
    }
}
