using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ke;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Win32k;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// A message call parked until its queue has what it asks for (GetMessage, MsgWaitForMultipleObjectsEx,
/// the wait of SendMessage): a dispatcher wait on the caller's objects plus its queue's wake event,
/// placed last. When the event fires the call looks again; finding nothing, it waits again with the
/// same deadline. It answers once, with a message, a result, an object, a timeout or APCs. Pooled.
/// </summary>
internal sealed class Win32kWaitCall(Dispatcher dispatcher, ObjectManager ob, UserSubsystem user, LookasideList<Win32kWaitCall> pool) : IKWaitCompletion, IWaitObjects
{
    public static LookasideList<Win32kWaitCall> NewPool(Dispatcher dispatcher, ObjectManager ob, UserSubsystem user) =>
        LookasideList<Win32kWaitCall>.OfSelfFreeing(pool => new Win32kWaitCall(dispatcher, ob, user, pool));

    private KernelObject[] _objects = new KernelObject[4];
    private DispatcherObject[] _waitables = new DispatcherObject[5];
    private int _count;
    private ReplyTarget _reply;
    private Ps.ProcessObject _process = null!;
    private Ps.ThreadObject _thread = null!;
    private MessageQueue _queue = null!;
    private MessageFilter _filter;
    private bool _waitAll;
    private bool _alertable;
    private long _deadline;

    /// <summary>Takes over a reference on <paramref name="obj"/>, waited on through <paramref name="waitable"/>.</summary>
    public void Add(KernelObject obj, DispatcherObject waitable)
    {
        if (_count == _objects.Length) Array.Resize(ref _objects, _count * 2);
        if (_count + 1 >= _waitables.Length) Array.Resize(ref _waitables, _waitables.Length * 2);
        _objects[_count] = obj;
        _waitables[_count++] = waitable;
    }

    public bool Contains(DispatcherObject waitable)
    {
        for (var i = 0; i < _count; i++)
            if (ReferenceEquals(_waitables[i], waitable)) return true;
        return false;
    }

    /// <summary>Gives the call back without waiting (the request failed before the wait began).</summary>
    public void Abandon()
    {
        ReleaseObjects();
        pool.Free(this);
    }

    /// <summary>Looks now, and parks if there is nothing; the reply goes out when the call ends.</summary>
    public void Start(in SyscallContext context, MessageQueue queue, in MessageFilter filter, bool waitAll, bool alertable, long deadline)
    {
        _reply = context.Reply;
        _process = context.Process;
        _thread = context.Thread;
        _queue = queue;
        _filter = filter;
        _waitAll = waitAll;
        _alertable = alertable;
        _deadline = deadline;
        Attempt();
    }

    private void Attempt()
    {
        // Reset before looking: whatever arrives after the look sets the event again, so nothing is missed.
        dispatcher.ResetEvent(_queue.WakeEvent);
        var pick = user.Pick(_queue, _filter, park: true);
        if (pick.Kind == PickKind.Input && _waitAll && _count > 0)
        {
            // MWMO_WAITALL: the input is there; the wait ends once every object is signalled too.
            dispatcher.SetEvent(_queue.WakeEvent);
        }
        else if (pick.Kind != PickKind.Nothing || !pick.Status.IsSuccess)
        {
            Finish(pick);
            return;
        }
        _waitables[_count] = _queue.WakeEvent;
        var process = _process;
        var sequence = _reply.Sequence;
        var wait = dispatcher.BeginWait(_waitables.AsSpan(0, _count + 1), _waitAll, _alertable, _deadline, _thread, _thread, this);
        if (!Dispatcher.HasEnded(wait)) process.PendingWaits.Add(sequence, wait);
    }

    public void WaitEnded(NtStatus status)
    {
        _process.PendingWaits.RemoveEnded(_reply.Sequence);
        var index = status.Value;
        if (index == _count && (!_waitAll || _count == 0))
        {
            Attempt();
            return;
        }
        if (index >= 0 && index < _count || _waitAll && index == 0)
        {
            Finish(new MessagePick(PickKind.Nothing, NtStatus.STATUS_SUCCESS, default, 0, null, index), MessageKind.Object);
            return;
        }
        var abandoned = index - NtStatus.STATUS_ABANDONED_WAIT_0.Value;
        if (abandoned >= 0 && abandoned < _count)
        {
            Finish(new MessagePick(PickKind.Nothing, NtStatus.STATUS_SUCCESS, default, 0, null, index), MessageKind.Object);
            return;
        }
        if (status == NtStatus.STATUS_USER_APC)
        {
            Finish(MessagePick.Nothing, MessageKind.Apc);
            return;
        }
        // STATUS_TIMEOUT, or the thread or process going away.
        Finish(MessagePick.Failed(status));
    }

    private void Finish(in MessagePick pick, MessageKind objectKind = MessageKind.None)
    {
        var reply = _reply;
        var thread = _thread;
        var sendId = _filter.SendId;
        user.EndWait(_queue);
        // A send whose wait ends without its result stops waiting for it.
        if (sendId != 0 && pick.Kind != PickKind.SendResult && pick.Kind != PickKind.Sent) user.CancelSend(_queue, sendId);
        ReleaseObjects();
        _reply = default;
        _process = null!;
        _thread = null!;
        _queue = null!;
        _filter = default;
        pool.Free(this);
        if (objectKind == MessageKind.Object)
        {
            reply.Send(NtStatus.STATUS_SUCCESS, new MessageReply { Kind = MessageKind.Object, Result = pick.Result });
            return;
        }
        if (objectKind == MessageKind.Apc)
        {
            var apcs = SystemServices.ApcBytes(dispatcher.DrainUserApcs(thread));
            var apcReply = new MessageReply { Kind = MessageKind.Apc };
            var data = new MessageReply.Data(apcs);
            reply.Send(NtStatus.STATUS_USER_APC, apcReply.WithDataLengths(data), data.Part1);
            return;
        }
        SystemServices.SendPick(reply, pick, sendId);
    }

    private void ReleaseObjects()
    {
        for (var i = 0; i < _count; i++)
        {
            ob.Dereference(_objects[i]);
            _objects[i] = null!;
            _waitables[i] = null!;
        }
        _waitables[_count] = null!;
        _count = 0;
    }
}
