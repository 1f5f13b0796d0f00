using System.Runtime.CompilerServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client;

/// <summary>Counts for one object type.</summary>
public sealed record ObjectTypeCount(string Name, int Objects, int Handles);

/// <summary>What `kbridge kernel status` shows.</summary>
public sealed record KernelState(
    int KernelProcessId, uint ProtocolVersion, TimeSpan Uptime, int Clients, int Objects, int Handles, int Drivers,
    int Devices, int PendingIrps, bool Persistent, IReadOnlyList<ObjectTypeCount> Types)
{
    /// <summary>Bytes the kernel process has allocated since it started (what the benchmark divides by operations).</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Views mapped now (in user processes and in kernel space), and the bytes they cover.</summary>
    public int Views { get; init; }
    public long ViewBytes { get; init; }

    /// <summary>Bytes of memory the live sections hold.</summary>
    public long SectionBytes { get; init; }

    /// <summary>How many objects of the type named <paramref name="typeName"/> exist.</summary>
    public int ObjectsOf(string typeName) => Types.FirstOrDefault(t => t.Name == typeName)?.Objects ?? 0;
}

/// <summary>One loaded driver.</summary>
public sealed record DriverInfo(string Name, string ImagePath, bool BuiltIn, bool Faulted, bool Unloadable, int Devices);

/// <summary>KernelBridge's own management calls (Kb*): state, drivers, stopping the kernel.</summary>
public static class KernelControl
{
    public static KernelState QueryState(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        using var answer = Syscalls.KbQueryKernelState(gate, new KbQueryKernelStateRequest(0));
        NtStatusException.ThrowIfFailed(answer.Status, "KbQueryKernelState");
        var reply = answer.Reply;
        var reader = new WireReader(KbKernelStateReply.ReadData(in reply, answer.Data).Types, "KbQueryKernelState");
        var types = new List<ObjectTypeCount>();
        for (var i = 0; i < reply.TypeCount; i++)
        {
            var count = reader.Read<KbObjectTypeCount>("type count");
            types.Add(new ObjectTypeCount(reader.TakeString(count.NameBytes, "type name"), (int)count.Objects, (int)count.Handles));
        }
        return new KernelState(reply.KernelProcessId, reply.ProtocolVersion, TimeSpan.FromMilliseconds(reply.UptimeMilliseconds),
            (int)reply.Clients, (int)reply.Objects, (int)reply.Handles, (int)reply.Drivers, (int)reply.Devices, (int)reply.PendingIrps,
            (reply.Flags & KernelStateFlags.Persistent) != 0, types)
        {
            AllocatedBytes = reply.AllocatedBytes,
            Views = (int)reply.Views,
            ViewBytes = reply.ViewBytes,
            SectionBytes = reply.SectionBytes,
        };
    }

    public static IReadOnlyList<DriverInfo> QueryDrivers(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        using var answer = Syscalls.KbQueryDrivers(gate, new KbQueryDriversRequest(0));
        NtStatusException.ThrowIfFailed(answer.Status, "KbQueryDrivers");
        var reply = answer.Reply;
        var reader = new WireReader(KbDriversReply.ReadData(in reply, answer.Data).Records, "KbQueryDrivers");
        var drivers = new List<DriverInfo>();
        for (var i = 0; i < reply.Count; i++)
        {
            var record = reader.Read<KbDriverRecord>("driver");
            drivers.Add(new DriverInfo(reader.TakeString(record.NameBytes, "name"), reader.TakeString(record.ImagePathBytes, "image"),
                (record.Flags & DriverRecordFlags.BuiltIn) != 0, (record.Flags & DriverRecordFlags.Faulted) != 0,
                (record.Flags & DriverRecordFlags.Unloadable) != 0, (int)record.DeviceCount));
        }
        return drivers;
    }

    /// <summary>KbQueryQuotas: the limits on each client, the kernel's memory, and every client process's usage (`kbridge stats`).</summary>
    public static KernelQuotas QueryQuotas(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        using var answer = Syscalls.KbQueryQuotas(gate, new KbQueryQuotasRequest(0));
        NtStatusException.ThrowIfFailed(answer.Status, "KbQueryQuotas");
        var reply = answer.Reply;
        var reader = new WireReader(KbQuotasReply.ReadData(in reply, answer.Data).Records, "KbQueryQuotas");
        var processes = new List<ProcessQuotaUsage>();
        for (var i = 0; i < reply.Count; i++)
        {
            var usage = reader.Read<KbProcessUsage>("process usage");
            processes.Add(new ProcessQuotaUsage(usage.ProcessId, usage.UserId, reader.TakeString(usage.NameBytes, "image name"), (int)usage.Handles,
                (int)usage.PendingIrps, (int)usage.CompletionPackets, (int)usage.PostedMessages, (int)usage.PortMessages, (int)usage.Views, usage.ViewBytes));
        }
        return new KernelQuotas(reply.MaxHandles, reply.MaxPendingIrps, reply.MaxCompletionPackets, reply.MaxPostedMessages, reply.MaxPortMessages,
            reply.MaxMappedBytes, reply.MaxConnectionsPerUser, reply.MaxConnections, reply.MaxFrameLength, reply.MaxPortMessageSize, reply.MaxSectionSize,
            (int)reply.Sections, reply.KernelResidentBytes, reply.ManagedHeapBytes, processes);
    }

    /// <summary>Asks the kernel to stop. Its clients (this one included) are disconnected.</summary>
    public static NtStatus Shutdown(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        return Syscalls.KbShutdownKernel(gate, new KbShutdownKernelRequest(0), out _);
    }

    internal static int SizeOf<T>() where T : unmanaged => Unsafe.SizeOf<T>();
}
