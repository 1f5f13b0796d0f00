namespace KernelBridge.Client;

/// <summary>One client process's usage of each quota (a row of `kbridge stats`).</summary>
public sealed record ProcessQuotaUsage(
    int ProcessId, uint UserId, string ImageName, int Handles, int PendingIrps, int CompletionPackets, int PostedMessages,
    int PortMessages, int Views, long ViewBytes);

/// <summary>The limits a kernel enforces on each client, the kernel's memory, and every client process's usage.</summary>
public sealed record KernelQuotas(
    int MaxHandles, int MaxPendingIrps, int MaxCompletionPackets, int MaxPostedMessages, int MaxPortMessages, long MaxMappedBytes,
    int MaxConnectionsPerUser, int MaxConnections, int MaxFrameLength, int MaxPortMessageSize, long MaxSectionSize,
    int Sections, long KernelResidentBytes, long ManagedHeapBytes, IReadOnlyList<ProcessQuotaUsage> Processes)
{
    /// <summary>The row of process <paramref name="processId"/> (null if it has no connection); a process with several connections has several rows.</summary>
    public IEnumerable<ProcessQuotaUsage> RowsOf(int processId) => Processes.Where(p => p.ProcessId == processId);
}
