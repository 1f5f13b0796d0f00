using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using KernelBridge.Abi;

namespace KernelBridge.Client.Gate;

/// <summary>
/// One system call in flight: numbered by the connection's <see cref="CallTable"/>, completed exactly
/// once (by the reader thread, or with the reason the connection is gone), pooled. A blocking caller
/// waits on it and an asynchronous caller awaits it (it is the <see cref="IValueTaskSource{NtStatus}"/>),
/// so neither allocates per call. It keeps the reply's fixed part, and its variable data only when
/// the caller asked for it: an I/O call's output goes straight into the caller's buffer instead.
/// </summary>
internal sealed class GateCall : IValueTaskSource<NtStatus>, IDisposable
{
    /// <summary>Kept as <see cref="Keep"/> to hold the reply's variable data as well as its fixed part.</summary>
    public const int KeepAll = int.MaxValue;

    private const int SmallReply = 256;
    private const int LargeReply = 256 * 1024;

    private readonly byte[] _small = new byte[SmallReply];
    private readonly ManualResetEventSlim _done = new(false, spinCount: 100);
    private ManualResetValueTaskSourceCore<NtStatus> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private byte[] _reply;
    private int _replyLength;

    public GateCall(GateConnection connection)
    {
        Connection = connection;
        _reply = _small;
    }

    public GateConnection Connection { get; }

    /// <summary>The number the kernel's Return frame (and a pended request's completion notice) carries.</summary>
    public uint Sequence { get; private set; }

    public CallWaiter Waiter { get; private set; }

    /// <summary>How many bytes of the reply to keep.</summary>
    public int Keep { get; private set; }

    /// <summary>For I/O calls: the caller's memory the reader thread writes before completing the call.</summary>
    public IoTarget? Target { get; private set; }

    public NtStatus Status { get; private set; }

    public short Version => _core.Version;

    /// <summary>Makes the pooled object ready for a new call (under the table's lock, before anyone can complete it).</summary>
    public void Reset(uint sequence, CallWaiter waiter, int keep, IoTarget? target)
    {
        Sequence = sequence;
        Waiter = waiter;
        Keep = keep;
        Target = target;
        Status = default;
        _replyLength = 0;
        if (waiter == CallWaiter.Blocking) _done.Reset();
        else if (waiter == CallWaiter.Awaited) _core.Reset();
    }

    /// <summary>
    /// Stores the result and wakes whoever waits. Called once per use, by whoever took the call out of
    /// the table; the last thing it does is hand the call over, so it must not be touched afterwards.
    /// A detached I/O call's end goes to its target's Completed hook, unless <paramref name="completionFollows"/>.
    /// </summary>
    public void Complete(NtStatus status, ReadOnlySpan<byte> payload, bool completionFollows = false)
    {
        var kept = Math.Min(payload.Length, Keep);
        if (_reply.Length < kept)
        {
            if (!ReferenceEquals(_reply, _small)) ArrayPool<byte>.Shared.Return(_reply);
            _reply = ArrayPool<byte>.Shared.Rent(kept);
        }
        payload[..kept].CopyTo(_reply);
        _replyLength = kept;
        Status = status;
        switch (Waiter)
        {
            case CallWaiter.Blocking:
                _done.Set();
                break;
            case CallWaiter.Awaited:
                _core.SetResult(status);
                break;
            default:
            {
                // A detached I/O call ends here unless it pended (then its completion notice ends it).
                var ended = completionFollows ? null : Target?.Completed;
                Connection.Calls.Release(this);
                ended?.Invoke(status);
                break;
            }
        }
    }

    /// <summary>Blocks the calling thread until the call has completed (on the shared-memory gate, reading results meanwhile).</summary>
    public void Wait()
    {
        if (Connection.Shared is { } shared) shared.WaitFor(this);
        else _done.Wait();
    }

    /// <summary>True once a blocking call has its result.</summary>
    public bool IsCompleted => _done.IsSet;

    /// <summary>Waits for the result without reading any (another thread does), at most <paramref name="milliseconds"/>.</summary>
    public bool WaitBlocking(int milliseconds) => _done.Wait(milliseconds);

    /// <summary>The reply's fixed part (zeros if the kernel sent less, as it does for some failures).</summary>
    public TReply Reply<TReply>() where TReply : unmanaged =>
        _replyLength >= Unsafe.SizeOf<TReply>() ? MemoryMarshal.Read<TReply>(_reply) : default;

    /// <summary>The variable data after the reply's fixed part (kept only for <see cref="KeepAll"/>).</summary>
    public ReadOnlySpan<byte> Data<TReply>() where TReply : unmanaged
    {
        var size = Unsafe.SizeOf<TReply>();
        return _replyLength > size ? _reply.AsSpan(size, _replyLength - size) : default;
    }

    /// <summary>Runs <paramref name="callback"/> if the token is cancelled before the awaiter has the result.</summary>
    public void CancelWith(Action<object?> callback, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled) _cancellation = cancellationToken.UnsafeRegister(callback, this);
    }

    /// <summary>Gives back memory a large reply took, so one big answer does not stay pinned in the pool.</summary>
    public void Trim()
    {
        if (_reply.Length <= LargeReply) return;
        ArrayPool<byte>.Shared.Return(_reply);
        _reply = _small;
    }

    /// <summary>For a call the pool has no room for.</summary>
    public void Dispose() => _done.Dispose();

    NtStatus IValueTaskSource<NtStatus>.GetResult(short token)
    {
        var status = _core.GetResult(token);
        // Disposing waits for a cancel callback that is running, so none can see this call reused.
        _cancellation.Dispose();
        _cancellation = default;
        Connection.Calls.Release(this);
        return status;
    }

    ValueTaskSourceStatus IValueTaskSource<NtStatus>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<NtStatus>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
