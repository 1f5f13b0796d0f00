using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;
using KernelBridge.Kernel.Ke;

namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// One FltSendMessage in flight, pooled: the sender's buffers, its message id, where it waits (the
/// port's queue, or the table of messages awaiting a reply), its clock, and how the sender learns the
/// end: an awaited <see cref="ValueTask{TResult}"/>, or a blocked thread (the synchronous form rides the
/// same object). Whoever takes the message out of the port's queue or table, under the port's lock,
/// is the one who completes it, so it completes exactly once.
/// </summary>
internal sealed class PortMessage : IValueTaskSource<FltSendMessageResult>
{
    private static readonly ConcurrentBag<PortMessage> Pool = [];

    private ManualResetValueTaskSourceCore<FltSendMessageResult> _core = new() { RunContinuationsAsynchronously = false };
    private readonly object _syncLock = new();
    private Timer? _clock;
    private long _deadline;
    private bool _synchronous;
    private bool _done;
    private FltSendMessageResult _syncResult;

    private PortMessage() => Node = new LinkedListNode<PortMessage>(this);

    /// <summary>Its place in the port's queue of undelivered messages (reused: no allocation per send).</summary>
    public LinkedListNode<PortMessage> Node { get; }

    public ClientPort? Port { get; private set; }
    public ReadOnlyMemory<byte> Sender { get; private set; }
    public Memory<byte> Reply { get; private set; }
    public bool WantsReply { get; private set; }
    public ulong Id { get; set; }

    public static PortMessage Rent(ClientPort port, ReadOnlyMemory<byte> sender, Memory<byte>? reply, bool synchronous)
    {
        if (!Pool.TryTake(out var message)) message = new PortMessage();
        message._core.Reset();
        message.Port = port;
        message.Sender = sender;
        message.WantsReply = reply.HasValue;
        message.Reply = reply ?? default;
        message.Id = 0;
        message._synchronous = synchronous;
        message._done = false;
        message._deadline = Timeouts.Never;
        return message;
    }

    /// <summary>Arms the clock for the send's timeout (delivery and reply together).</summary>
    public void Arm(long deadline)
    {
        _deadline = deadline;
        _clock ??= new Timer(static state => ((PortMessage)state!).OnClock(), this, Timeout.Infinite, Timeout.Infinite);
        Timeouts.Arm(_clock, deadline);
    }

    private void OnClock()
    {
        var deadline = Volatile.Read(ref _deadline);
        if (deadline == Timeouts.Never) return;
        // A clock armed for a timer longer than it can wait, or left over from an earlier use.
        if (!Timeouts.HasPassed(deadline))
        {
            Timeouts.Arm(_clock!, deadline);
            return;
        }
        Port?.TimeOut(this);
    }

    /// <summary>The end (called once, by whoever took the message out of the port).</summary>
    public void Complete(NtStatus status, int replyLength)
    {
        Volatile.Write(ref _deadline, Timeouts.Never);
        Timeouts.Disarm(_clock);
        var result = new FltSendMessageResult(status, replyLength);
        if (!_synchronous)
        {
            _core.SetResult(result);
            return;
        }
        lock (_syncLock)
        {
            _syncResult = result;
            _done = true;
            Monitor.PulseAll(_syncLock);
        }
    }

    /// <summary>The synchronous sender's wait: a short spin (a reply often comes within microseconds), then sleep.</summary>
    public FltSendMessageResult WaitAndReturn()
    {
        var spin = new SpinWait();
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20000;
        while (!Volatile.Read(ref _done) && Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
        FltSendMessageResult result;
        lock (_syncLock)
        {
            while (!_done) Monitor.Wait(_syncLock);
            result = _syncResult;
        }
        Return();
        return result;
    }

    /// <summary>A result known before anything waited: the message goes back to the pool.</summary>
    public FltSendMessageResult EndedNow(NtStatus status)
    {
        Return();
        return new FltSendMessageResult(status, 0);
    }

    public ValueTask<FltSendMessageResult> AsValueTask() => new(this, _core.Version);

    public FltSendMessageResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Return();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Return()
    {
        Port = null;
        Sender = default;
        Reply = default;
        Pool.Add(this);
    }
}
