using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// An I/O completion port (KQUEUE): packets in FIFO order, waiting threads released LIFO, at most
/// Concurrency associated threads running at once. Its signal state is the number of queued packets.
/// All fields are guarded by the dispatcher lock.
/// </summary>
internal sealed class IoCompletionObject(int concurrency) : DispatcherObject(ObjectTypes.IoCompletion)
{
    public int Concurrency { get; } = concurrency;
    public readonly Queue<CompletionPacket> Packets = new();
    public readonly LinkedList<Ke.QueueWaiter> Waiters = new();
    public readonly HashSet<ThreadObject> Associated = [];
    public int Active;
    public bool Closed;
}
