using System.Net.Sockets;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Kernel.Gate.Shared;

/// <summary>
/// A shared-memory client as the poller sees it: its syscall area, the calls waiting in its
/// submission ring, and the order between those and the frames it sends by socket. One thread
/// at a time reads the ring and serves (whoever holds <see cref="ServeLock"/>): calls from one
/// client are served in the order its threads committed them, as on the socket gate.
/// </summary>
internal sealed class SharedSession(ClientConnection owner, SyscallArea area, CompletionChannel completions, bool spins) : IDisposable
{
    /// <summary>Records served in one turn before the poller looks at the other clients.</summary>
    private const int TurnLength = 64;

    private readonly SemaphoreSlim _markers = new(0);
    private volatile bool _pausedForSocket;
    private volatile bool _broken;

    /// <summary>Held while the ring is read and its calls served (by the poller, or by the socket loop for a socket frame).</summary>
    public Lock ServeLock { get; } = new();

    public ClientConnection Owner => owner;

    public CompletionChannel Completions => completions;

    /// <summary>False if the client said KERNELBRIDGE_SPIN=0: the poller sleeps as soon as it runs out of work.</summary>
    public bool Spins => spins;

    /// <summary>Set when the connection is closing: the poller lets go of it.</summary>
    public volatile bool Detached;

    /// <summary>When the poller last served a call of this client (Stopwatch ticks; the poller's own bookkeeping).</summary>
    public long LastActive;

    private uint _advice;

    /// <summary>Tells the client whether its waiting callers may spin (written only when it changes: the client reads it on every wait).</summary>
    public unsafe void Advise(uint advice)
    {
        if (_advice == advice || Detached) return;
        _advice = advice;
        Volatile.Write(ref area.Control->SpinAdvice, advice);
    }

    private bool Idle => _pausedForSocket || _broken || Detached;

    /// <summary>
    /// Serves up to a turn's worth of calls from the ring: each record is copied once into
    /// <paramref name="buffer"/>, given back, checked, and served from the copy. Returns how many.
    /// <paramref name="serving"/> is odd while a call is being served (the poller's watchdog looks).
    /// </summary>
    public int Pump(byte[] buffer, ref int serving)
    {
        if (Idle || !area.Submissions.MayHaveRecord || !ServeLock.TryEnter()) return 0;
        var served = 0;
        try
        {
            var ring = area.Submissions;
            while (served < TurnLength && !Idle)
            {
                var status = ring.TryRead(out var record);
                if (status != RingStatus.Ok)
                {
                    if (status == RingStatus.Corrupt) Break("its submission ring is corrupt (an index or a record header is impossible)");
                    break;
                }
                var type = record.Type;
                var length = record.Payload.Length;
                if (type == (int)GateRecord.Frame && length <= buffer.Length)
                {
                    record.Payload.CopyTo(buffer);
                    ring.Release();
                    served++;
                    // Only this poller writes it; the watchdog reads it.
                    Volatile.Write(ref serving, serving + 1);
                    try
                    {
                        owner.ServeRecord(buffer.AsSpan(0, length));
                    }
                    finally
                    {
                        Volatile.Write(ref serving, serving + 1);
                    }
                }
                else if (type == (int)GateRecord.FrameOnSocket && length == 0)
                {
                    ring.Release();
                    served++;
                    // Nothing after the marker is served before the frame it stands for.
                    _pausedForSocket = true;
                    _markers.Release();
                }
                else
                {
                    Break($"a record of type {type} and {length} bytes in its submission ring");
                }
            }
        }
        catch (ProtocolViolationException e)
        {
            Break(e.Message);
        }
        finally
        {
            ServeLock.Exit();
        }
        return served;
    }

    /// <summary>
    /// Raises the ring's sleeping flag and looks once more. Ok: a call is waiting (do not sleep);
    /// Empty or Pending: sleep on <paramref name="word"/> while it holds <paramref name="signal"/>;
    /// Busy (another thread serves it, or it waits for a socket frame): leave it out of this sleep.
    /// </summary>
    public unsafe SleepReadiness PrepareToSleep(out uint* word, out uint signal)
    {
        word = area.Submissions.DataSignal;
        signal = 0;
        if (Idle || !ServeLock.TryEnter()) return SleepReadiness.Busy;
        try
        {
            var status = area.Submissions.PrepareToSleep(out signal);
            if (status == RingStatus.Corrupt) Break("its submission ring is corrupt (an index or a record header is impossible)");
            return status switch
            {
                RingStatus.Empty or RingStatus.Pending => SleepReadiness.Sleep,
                RingStatus.Ok => SleepReadiness.Ready,
                _ => SleepReadiness.Busy,
            };
        }
        finally
        {
            ServeLock.Exit();
        }
    }

    public void FinishSleep() => area.Submissions.FinishSleep();

    /// <summary>
    /// The socket loop has a frame: waits until the poller has reached its marker in the ring (so
    /// every call committed before it has been served). False if the client hung up meanwhile.
    /// </summary>
    public async ValueTask<bool> WaitForMarkerAsync(Socket socket, CancellationToken cancellationToken)
    {
        while (!await _markers.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
        {
            // A frame without a marker only stalls this client; one that has also hung up is gone.
            if (_broken || Libc.WaitForHangUp(socket.SafeHandle, 0)) return false;
        }
        return true;
    }

    /// <summary>The socket frame has been served: the ring's calls after its marker may go on.</summary>
    public void ResumeAfterSocketFrame() => _pausedForSocket = false;

    private void Break(string reason)
    {
        _broken = true;
        owner.OnSharedMemoryViolation(reason);
    }

    public void Dispose()
    {
        _markers.Dispose();
        area.Dispose();
    }
}

/// <summary>What a session says when the poller is about to sleep.</summary>
internal enum SleepReadiness
{
    Sleep,
    Ready,
    Busy,
}
