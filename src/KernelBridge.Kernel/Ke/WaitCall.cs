using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// A user wait in progress (NtWaitFor*, NtDelayExecution): the objects it holds referenced and
/// where its reply goes. Pooled; it answers the caller and goes back to the pool when the wait ends.
/// </summary>
internal sealed class WaitCall(Dispatcher dispatcher, ObjectManager ob, Stack<WaitCall> pool) : IKWaitCompletion
{
    private KernelObject[] _objects = new KernelObject[4];
    private DispatcherObject[] _waitables = new DispatcherObject[4];
    private int _count;
    private ReplyTarget _reply;
    private ProcessObject _process = null!;
    private ThreadObject _thread = null!;
    private bool _delay;

    public static WaitCall Rent(Stack<WaitCall> pool, Dispatcher dispatcher, ObjectManager ob)
    {
        lock (pool)
        {
            if (pool.TryPop(out var call)) return call;
        }
        return new WaitCall(dispatcher, ob, pool);
    }

    /// <summary>Takes over a reference on <paramref name="obj"/>, waited on through <paramref name="waitable"/>.</summary>
    public void Add(KernelObject obj, DispatcherObject waitable)
    {
        if (_count == _objects.Length)
        {
            Array.Resize(ref _objects, _count * 2);
            Array.Resize(ref _waitables, _count * 2);
        }
        _objects[_count] = obj;
        _waitables[_count++] = waitable;
    }

    /// <summary>Parks the wait; the reply (with any APCs to run) goes out when it ends.</summary>
    public void Start(in SyscallContext context, bool waitAll, bool alertable, long? timeout, bool delay)
    {
        _reply = context.Reply;
        _process = context.Process;
        _thread = context.Thread;
        _delay = delay;
        var process = _process;
        var sequence = _reply.Sequence;
        var wait = dispatcher.BeginWait(_waitables.AsSpan(0, _count), waitAll, alertable, Timeouts.DeadlineOf(timeout), _thread, _thread, this);
        if (!Dispatcher.HasEnded(wait)) process.PendingWaits.Add(sequence, wait);
    }

    public void WaitEnded(NtStatus status)
    {
        var reply = _reply;
        var thread = _thread;
        _process.PendingWaits.Remove(reply.Sequence);
        for (var i = 0; i < _count; i++)
        {
            ob.Dereference(_objects[i]);
            _objects[i] = null!;
            _waitables[i] = null!;
        }
        _count = 0;
        if (_delay && status == NtStatus.STATUS_TIMEOUT) status = NtStatus.STATUS_SUCCESS;
        _reply = default;
        _process = null!;
        _thread = null!;
        lock (pool)
        {
            if (pool.Count < 1024) pool.Push(this);
        }
        var apcs = status == NtStatus.STATUS_USER_APC ? dispatcher.DrainUserApcs(thread) : [];
        reply.Send(status, new WaitReply((uint)apcs.Length, 0), apcs.Length == 0 ? default : KeServices.ApcBytes(apcs));
    }
}
