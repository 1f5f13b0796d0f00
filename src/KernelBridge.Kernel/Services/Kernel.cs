using System.Runtime.CompilerServices;
using System.Text;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>KernelBridge's own services (Kb*): the kernel's state, and stopping it.</summary>
internal sealed partial class SystemServices
{
    public void KbQueryKernelState(in SyscallContext context, in KbQueryKernelStateRequest request)
    {
        var host = _host;
        var payload = new List<byte>();
        Span<byte> record = stackalloc byte[Unsafe.SizeOf<KbObjectTypeCount>()];
        foreach (var type in ObjectTypes.All)
        {
            var counts = host.ObjectManager.InfoOf(type);
            WireData.Write(record, new KbObjectTypeCount((uint)counts.ObjectCount, (uint)counts.HandleCount, WireData.StringBytes(type.Name)));
            payload.AddRange(record);
            payload.AddRange(Encoding.Unicode.GetBytes(type.Name));
        }
        var reply = new KbKernelStateReply(
            (long)host.Uptime.TotalMilliseconds, GC.GetTotalAllocatedBytes(precise: true), Environment.ProcessId, WireProtocol.Version, (uint)host.ClientCount,
            (uint)host.ObjectManager.TotalObjects, (uint)host.ObjectManager.TotalHandles, (uint)host.DriverLoader.Drivers.Count,
            (uint)host.ObjectManager.InfoOf(ObjectTypes.Device).ObjectCount, (uint)host.IoManager.OutstandingIrps,
            host.Options.Persistent ? KernelStateFlags.Persistent : KernelStateFlags.None, (uint)ObjectTypes.All.Count, 0, (uint)host.MemoryManager.Views,
            host.MemoryManager.SectionBytes, host.MemoryManager.ViewBytes);
        var types = payload.ToArray();
        context.Reply.Send(NtStatus.STATUS_SUCCESS, reply with { TypesBytes = (uint)types.Length }, types);
    }

    /// <summary>
    /// Stops the kernel: for its own user and for administrators only, so one user of a
    /// multi-user kernel cannot stop it under the others (NtShutdownSystem likewise asks for a right).
    /// </summary>
    public void KbShutdownKernel(in SyscallContext context, in KbShutdownKernelRequest request)
    {
        var token = context.Process.Token;
        if (token.UserId != Platform.Interop.Libc.EffectiveUserId() && !token.IsElevated)
        {
            context.Reply.Send(NtStatus.STATUS_ACCESS_DENIED);
            return;
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS);
        _host.RequestStop($"stop requested by process {context.Process.ProcessId}");
    }
}
