using KernelBridge.Abi;

namespace KernelBridge.Client.Gate;

/// <summary>
/// A connection's calls in flight, by sequence number, and the pool they come from. When the
/// connection goes the table closes: the calls in it fail with the reason, and so does every later
/// call, at once, without being sent. Taking a call out of the table is the right to complete it.
/// </summary>
internal sealed class CallTable(GateConnection connection)
{
    private const int PoolLimit = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<uint, GateCall> _inFlight = [];
    private readonly Stack<GateCall> _free = new();
    private uint _lastSequence;
    private volatile bool _closed;
    private volatile int _inFlightCount;
    private NtStatus _closedWith;

    public bool IsClosed => _closed;

    /// <summary>How many calls wait for their result (read without the lock: a hint for who reads results).</summary>
    public int InFlight => _inFlightCount;

    /// <summary>Why the table closed (meaningful once <see cref="IsClosed"/>).</summary>
    public NtStatus ClosedWith => _closedWith;

    /// <summary>
    /// A pooled call with a fresh sequence number, entered in the table: false if the table is closed,
    /// in which case the call has already completed with the reason (and a detached one is back in the pool).
    /// </summary>
    public bool TryStart(CallWaiter waiter, int keep, IoTarget? target, out GateCall call)
    {
        lock (_lock)
        {
            call = _free.TryPop(out var pooled) ? pooled : new GateCall(connection);
            var sequence = ++_lastSequence;
            if (sequence == 0) sequence = ++_lastSequence;
            call.Reset(sequence, waiter, keep, target);
            if (!_closed)
            {
                _inFlight.Add(sequence, call);
                _inFlightCount = _inFlight.Count;
                return true;
            }
        }
        call.Complete(_closedWith, default);
        return false;
    }

    /// <summary>The call a Return frame answers, taken out of the table; null if none (it was failed already).</summary>
    public GateCall? TryTake(uint sequence)
    {
        lock (_lock)
        {
            if (!_inFlight.Remove(sequence, out var call)) return null;
            _inFlightCount = _inFlight.Count;
            return call;
        }
    }

    /// <summary>Fails a call that is still in the table (it could not be sent).</summary>
    public void Fail(GateCall call, NtStatus status)
    {
        if (TryTake(call.Sequence) is { } taken) taken.Complete(status, default);
    }

    /// <summary>Closes the table: every call in it completes with <paramref name="status"/>, later ones fail at once.</summary>
    public void Close(NtStatus status)
    {
        GateCall[] waiting;
        lock (_lock)
        {
            if (!_closed) _closedWith = status;
            _closed = true;
            waiting = [.. _inFlight.Values];
            _inFlight.Clear();
            _inFlightCount = 0;
        }
        foreach (var call in waiting) call.Complete(_closedWith, default);
    }

    /// <summary>Gives a finished call back to the pool.</summary>
    public void Release(GateCall call)
    {
        call.Trim();
        lock (_lock)
        {
            if (_free.Count < PoolLimit)
            {
                _free.Push(call);
                return;
            }
        }
        call.Dispose();
    }
}
