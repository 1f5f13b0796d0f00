using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// What `kbridge stats` shows beside the kernel's state: the quota limits, the kernel's memory, and
// each client process's usage against the limits (docs/quotas.md).

[StructLayout(LayoutKind.Sequential)]
[Syscall(204)]
public partial record struct KbQueryQuotasRequest(uint Reserved) : IRequest<KbQuotasReply>;

/// <summary>The limits in force and the kernel's memory; followed by Count records, each a <see cref="KbProcessUsage"/> then its image name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbQuotasReply(
    int MaxHandles, int MaxPendingIrps, int MaxCompletionPackets, int MaxPostedMessages,
    int MaxPortMessages, int MaxConnectionsPerUser, int MaxConnections, int MaxFrameLength,
    int MaxPortMessageSize, uint Sections, long MaxMappedBytes, long MaxSectionSize,
    long KernelResidentBytes, long ManagedHeapBytes, uint Count, [Data("Records")] uint RecordsBytes);

/// <summary>One client process's usage of each quota.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbProcessUsage(
    int ProcessId, uint UserId, uint Handles, uint PendingIrps, uint CompletionPackets, uint PostedMessages,
    uint PortMessages, uint Views, long ViewBytes, uint NameBytes, uint Reserved);
