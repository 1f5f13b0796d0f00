using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ke;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// A user wait in progress (NtWaitFor*, NtDelayExecution): the objects it holds referenced and
/// where its reply goes. Pooled: it answers the caller and goes back to the pool when the wait ends.
/// </summary>
internal sealed class WaitCall(Dispatcher dispatcher, ObjectManager ob, LookasideList<WaitCall> pool) : IKWaitCompletion, IWaitObjects
{
    /// <summary>The free calls of one kernel.</summary>
    public static LookasideList<WaitCall> NewPool(Dispatcher dispatcher, ObjectManager ob) =>
        LookasideList<WaitCall>.OfSelfFreeing(pool => new WaitCall(dispatcher, ob, pool));

    private KernelObject[] _objects = new KernelObject[4];
    private DispatcherObject[] _waitables = new DispatcherObject[4];
    private int _count;
    private ReplyTarget _reply;
    private Ps.ProcessObject _process = null!;
    private Ps.ThreadObject _thread = null!;
    private bool _delay;

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

    /// <summary>Whether <paramref name="waitable"/> is already among the objects (a wait for all of them cannot name one twice).</summary>
    public bool Contains(DispatcherObject waitable)
    {
        for (var i = 0; i < _count; i++)
            if (ReferenceEquals(_waitables[i], waitable)) return true;
        return false;
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

    /// <summary>Gives the call back without waiting (the request failed before the wait began).</summary>
    public void Abandon()
    {
        ReleaseObjects();
        pool.Free(this);
    }

    public void WaitEnded(NtStatus status)
    {
        var reply = _reply;
        var thread = _thread;
        _process.PendingWaits.RemoveEnded(reply.Sequence);
        ReleaseObjects();
        if (_delay && status == NtStatus.STATUS_TIMEOUT) status = NtStatus.STATUS_SUCCESS;
        _reply = default;
        _process = null!;
        _thread = null!;
        pool.Free(this);
        var apcs = status == NtStatus.STATUS_USER_APC ? dispatcher.DrainUserApcs(thread) : [];
        reply.Send(status, new WaitReply((uint)apcs.Length, 0), SystemServices.ApcBytes(apcs));
    }

    private void ReleaseObjects()
    {
        for (var i = 0; i < _count; i++)
        {
            ob.Dereference(_objects[i]);
            _objects[i] = null!;
            _waitables[i] = null!;
        }
        _count = 0;
    }
}
