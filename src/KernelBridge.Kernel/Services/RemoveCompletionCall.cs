using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ke;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// An NtRemoveIoCompletion in progress: the port it holds referenced and where its reply goes.
/// Pooled: it answers the caller (packets, then any APCs) and goes back to the pool when the wait ends.
/// </summary>
internal sealed class RemoveCompletionCall(Dispatcher dispatcher, ObjectManager ob, LookasideList<RemoveCompletionCall> pool) : IKQueueWaitCompletion
{
    /// <summary>The free calls of one kernel.</summary>
    public static LookasideList<RemoveCompletionCall> NewPool(Dispatcher dispatcher, ObjectManager ob) =>
        LookasideList<RemoveCompletionCall>.OfSelfFreeing(pool => new RemoveCompletionCall(dispatcher, ob, pool));

    private CompletionPacket[] _packets = new CompletionPacket[4];
    private ReplyTarget _reply;
    private Ps.ThreadObject _thread = null!;
    private KQueue _port = null!;

    /// <summary>Waits on <paramref name="port"/>, whose reference the call takes over.</summary>
    public void Start(in SyscallContext context, KQueue port, int maxCount, bool alertable, long? timeout)
    {
        _reply = context.Reply;
        _thread = context.Thread;
        _port = port;
        dispatcher.RemoveQueue(port, context.Thread, maxCount, alertable, Timeouts.DeadlineOf(timeout), this);
    }

    public void QueueWaitEnded(NtStatus status, ReadOnlySpan<KQueuePacket> packets)
    {
        var reply = _reply;
        ob.Dereference(_port);
        if (_packets.Length < packets.Length) _packets = new CompletionPacket[Math.Max(packets.Length, 2 * _packets.Length)];
        for (var i = 0; i < packets.Length; i++)
            _packets[i] = new CompletionPacket(packets[i].KeyContext, packets[i].ApcContext, packets[i].Status.Value, 0, packets[i].Information);
        var apcs = status == NtStatus.STATUS_USER_APC ? dispatcher.DrainUserApcs(_thread) : [];
        reply.Send(status, new RemoveIoCompletionReply((uint)packets.Length, (uint)apcs.Length),
            MemoryMarshal.AsBytes(_packets.AsSpan(0, packets.Length)), SystemServices.ApcBytes(apcs));
        _reply = default;
        _thread = null!;
        _port = null!;
        pool.Free(this);
    }
}
