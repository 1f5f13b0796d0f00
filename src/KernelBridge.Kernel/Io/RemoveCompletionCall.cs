using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// An NtRemoveIoCompletion in progress: the port it holds referenced and where its reply goes.
/// Pooled; it answers the caller (packets, then any APCs) and goes back to the pool when the wait ends.
/// </summary>
internal sealed class RemoveCompletionCall(Ke.Dispatcher dispatcher, ObjectManager ob, Stack<RemoveCompletionCall> pool) : IKQueueWaitCompletion
{
    private CompletionPacket[] _packets = new CompletionPacket[4];
    private ReplyTarget _reply;
    private ThreadObject _thread = null!;
    private KQueue _port = null!;

    public static RemoveCompletionCall Rent(Stack<RemoveCompletionCall> pool, Ke.Dispatcher dispatcher, ObjectManager ob)
    {
        lock (pool)
        {
            if (pool.TryPop(out var call)) return call;
        }
        return new RemoveCompletionCall(dispatcher, ob, pool);
    }

    /// <summary>Waits on <paramref name="port"/>, whose reference the call takes over.</summary>
    public void Start(in SyscallContext context, KQueue port, int maxCount, bool alertable, long? timeout)
    {
        _reply = context.Reply;
        _thread = context.Thread;
        _port = port;
        dispatcher.RemoveQueue(port, context.Thread, maxCount, alertable, Ke.Timeouts.DeadlineOf(timeout), this);
    }

    public void QueueWaitEnded(NtStatus status, ReadOnlySpan<KQueuePacket> packets)
    {
        var reply = _reply;
        var thread = _thread;
        ob.Dereference(_port);
        if (_packets.Length < packets.Length) _packets = new CompletionPacket[Math.Max(packets.Length, 2 * _packets.Length)];
        for (var i = 0; i < packets.Length; i++)
            _packets[i] = new CompletionPacket(packets[i].KeyContext, packets[i].ApcContext, packets[i].Status.Value, 0, packets[i].Information);
        var apcs = status == NtStatus.STATUS_USER_APC ? dispatcher.DrainUserApcs(thread) : [];
        var records = new ApcRecord[apcs.Length];
        for (var i = 0; i < apcs.Length; i++) records[i] = new ApcRecord(apcs[i].Routine, apcs[i].Argument1, apcs[i].Argument2, apcs[i].Argument3);
        reply.Send(status, new RemoveIoCompletionReply((uint)packets.Length, (uint)records.Length),
            MemoryMarshal.AsBytes(_packets.AsSpan(0, packets.Length)), MemoryMarshal.AsBytes(records.AsSpan()));
        _reply = default;
        _thread = null!;
        _port = null!;
        lock (pool)
        {
            if (pool.Count < 1024) pool.Push(this);
        }
    }
}
