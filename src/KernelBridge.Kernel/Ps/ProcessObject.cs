using System.Collections.Concurrent;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ps;

/// <summary>
/// EPROCESS: one per connected client process. Its identity comes from SO_PEERCRED; its handle
/// table is private to it; rundown empties everything when the client goes.
/// </summary>
internal sealed class ProcessObject(int processId, Token token, string imageName, QuotaLimits? limits = null) : DispatcherObject(ObjectTypes.Process)
{
    /// <summary>What it is charged for, against its limits (none for the System process).</summary>
    public ProcessQuota Quota { get; } = new(limits ?? QuotaLimits.Unlimited);

    public int ProcessId { get; } = processId;
    public Token Token { get; } = token;
    public string ImageName { get; } = imageName;
    public DateTime CreateTime { get; } = DateTime.UtcNow;
    public HandleTable Handles { get; } = new((limits ?? QuotaLimits.Unlimited).MaxHandles);

    /// <summary>Threads seen so far, by their Linux thread id.</summary>
    public ConcurrentDictionary<int, ThreadObject> Threads { get; } = new();

    /// <summary>Waits in progress, by the call's sequence (so they can be cancelled, and ended at rundown).</summary>
    public PendingWaitTable PendingWaits { get; } = new();

    /// <summary>I/O requests in flight for this process (what CancelIo, CancelIoEx and rundown look through).</summary>
    public PendingIoSet PendingIo { get; } = new((limits ?? QuotaLimits.Unlimited).MaxPendingIrps);

    /// <summary>Where its views live (null: the client reserved no room for views).</summary>
    public Mm.ViewSpace? Views { get; set; }

    /// <summary>Set when rundown starts: no new handles, no new I/O.</summary>
    public bool Terminating { get; set; }

    public override string ToString() => $"process {ProcessId} ({ImageName})";
}
