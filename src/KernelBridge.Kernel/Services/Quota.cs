using System.Runtime.CompilerServices;
using System.Text;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>KbQueryQuotas: the limits in force, the kernel's memory, and every client process's usage (`kbridge stats`).</summary>
internal sealed partial class SystemServices
{
    public void KbQueryQuotas(in SyscallContext context, in KbQueryQuotasRequest request)
    {
        var host = _host;
        var limits = host.Options.Quotas;
        var payload = new List<byte>();
        Span<byte> record = stackalloc byte[Unsafe.SizeOf<KbProcessUsage>()];
        var count = 0u;
        foreach (var process in host.Processes.Processes)
        {
            var name = process.ImageName;
            var usage = new KbProcessUsage(process.ProcessId, process.Token.UserId, (uint)process.Handles.Count, (uint)process.PendingIo.Count,
                (uint)Math.Max(0, process.Quota.CompletionPackets), (uint)host.User.PostedMessagesOf(process), (uint)Math.Max(0, process.Quota.PortMessages),
                (uint)(process.Views?.Count ?? 0), process.Quota.MappedBytes, WireData.StringBytes(name), 0);
            WireData.Write(record, usage);
            payload.AddRange(record);
            payload.AddRange(Encoding.Unicode.GetBytes(name));
            count++;
        }
        var reply = new KbQuotasReply(
            limits.MaxHandles, limits.MaxPendingIrps, limits.MaxCompletionPackets, limits.MaxPostedMessages,
            limits.MaxPortMessages, limits.MaxConnectionsPerUser, host.MaxConnections, WireProtocol.MaxFrameLength,
            FilterPortLimits.MaxMessageSize, (uint)host.MemoryManager.Sections, limits.MaxMappedBytes, host.Options.MaxSectionSize,
            Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: false), count, 0);
        var records = payload.ToArray();
        context.Reply.Send(NtStatus.STATUS_SUCCESS, reply with { RecordsBytes = (uint)records.Length }, records);
    }
}
