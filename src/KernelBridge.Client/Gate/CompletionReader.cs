using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The completion ring's reader on the client: whoever waits for a result reads the ring itself,
/// one thread at a time (the "leader"). A blocking caller leads while it waits — it spins for a
/// budget that adapts to the kernel's answers and always exceeds a wake-up (unless the kernel
/// advises against spinning, or the client said never to), then sleeps on the ring's doorbell —
/// and a background thread leads when only asynchronous calls and pended requests are waiting.
/// Each record is delivered in place; a marker says the next frame is on the socket.
/// </summary>
internal sealed unsafe class CompletionReader : IDisposable
{
    private static readonly long MinSpinTicks = Stopwatch.Frequency * 30 / 1_000_000;
    private static readonly long FirstSpinTicks = Stopwatch.Frequency * 60 / 1_000_000;
    private static readonly long MaxSpinTicks = Stopwatch.Frequency * 500 / 1_000_000;
    private const int SleepMilliseconds = 100;

    [ThreadStatic] private static CompletionReader? _ledByThisThread;

    private readonly GateConnection _connection;
    private readonly Socket _socket;
    private readonly SharedMemory _area;
    private readonly RingReader _completions;
    private readonly FrameReceiver _receiver;
    private readonly ManualResetEventSlim _backgroundWake = new(false, spinCount: 0);
    private readonly Thread _background;
    private readonly bool _spins;
    private long _spinTicks;
    private int _lead;
    private volatile bool _disposed;

    public CompletionReader(GateConnection connection, Socket socket, SharedMemory area, RingReader completions, bool spins)
    {
        _connection = connection;
        _socket = socket;
        _receiver = new FrameReceiver { Descriptors = connection.Descriptors };
        _area = area;
        _completions = completions;
        _spins = spins;
        _spinTicks = spins ? FirstSpinTicks : 0;
        _background = new Thread(BackgroundLoop) { IsBackground = true, Name = "KernelBridge completions" };
    }

    /// <summary>The kernel's advice (the area's control page); only read.</summary>
    private SyscallAreaControl* Control => (SyscallAreaControl*)_area.Pointer;

    public void Start() => _background.Start();

    /// <summary>Blocks until <paramref name="call"/> has completed, reading results meanwhile if no other thread does.</summary>
    public void WaitFor(GateCall call)
    {
        if (call.IsCompleted) return;
        if (ReferenceEquals(_ledByThisThread, this))
        {
            // A completion callback of ours made a blocking call: we are still the one reading.
            Lead(call);
            return;
        }
        while (!call.IsCompleted)
        {
            if (TryLead())
            {
                try
                {
                    Lead(call);
                }
                finally
                {
                    Unlead();
                }
                return;
            }
            // Another thread reads results (ours too); when it stops it hands over to the background thread.
            call.WaitBlocking(SleepMilliseconds);
        }
    }

    /// <summary>After an asynchronous send: make sure some thread will read its result.</summary>
    public void EnsureReader()
    {
        if (Volatile.Read(ref _lead) == 0) _backgroundWake.Set();
    }

    private bool TryLead()
    {
        if (Interlocked.CompareExchange(ref _lead, 1, 0) != 0) return false;
        _ledByThisThread = this;
        return true;
    }

    private void Unlead()
    {
        _ledByThisThread = null;
        Interlocked.Exchange(ref _lead, 0);
        // Results still expected (asynchronous calls, pended requests, other threads' calls): the background thread reads on.
        if (_connection.Expecting > 0 && !_disposed) _backgroundWake.Set();
    }

    /// <summary>
    /// Reads results until <paramref name="call"/> has completed (or, for the background thread, until
    /// none are expected): spins while they may come soon, then sleeps on the completion doorbell.
    /// </summary>
    private void Lead(GateCall? call)
    {
        var added = false;
        try
        {
            _area.DangerousAddRef(ref added);
            // The clock costs tens of ns on a VM: it is read every 16 looks, not on every one.
            var started = 0L;
            var lastWork = 0L;
            var slept = false;
            var spins = 0;
            while (!Done(call))
            {
                if (Drain() > 0)
                {
                    lastWork = 0;
                    spins = 0;
                    continue;
                }
                if (Done(call)) break;
                if (call is not null && _spins && Volatile.Read(ref Control->SpinAdvice) == SpinAdvice.Spin && (++spins & 15) != 0)
                {
                    Thread.SpinWait(1);
                    continue;
                }
                var now = Stopwatch.GetTimestamp();
                if (started == 0) started = now;
                if (lastWork == 0) lastWork = now;
                if (call is not null && _spins && Volatile.Read(ref Control->SpinAdvice) == SpinAdvice.Spin && now - lastWork < Volatile.Read(ref _spinTicks))
                {
                    // The one spinner on this side gives way now and then to whoever shares its core.
                    if ((spins & 63) == 0) Thread.Yield();
                    else Thread.SpinWait(1);
                    continue;
                }
                var status = _completions.PrepareToSleep(out var signal);
                if (status is RingStatus.Empty or RingStatus.Pending && !Done(call))
                {
                    FutexDoorbell.Instance.Wait(_completions.DataSignal, signal, SleepMilliseconds);
                    slept = true;
                }
                _completions.FinishSleep();
                if (status == RingStatus.Corrupt) Break();
            }
            if (call is not null && slept) Adapt(Stopwatch.GetTimestamp() - started, slept);
        }
        catch (ObjectDisposedException)
        {
            // Disposed under us: the connection is gone and every call has been failed.
        }
        finally
        {
            if (added) _area.DangerousRelease();
        }
    }

    private bool Done(GateCall? call) =>
        call is not null ? call.IsCompleted : _connection.Expecting == 0 || !_connection.IsConnected || _disposed;

    /// <summary>
    /// The spin budget follows the kernel: an answer that came just after we fell asleep doubles it
    /// (so the two sides stop alternating sleeps); a call that takes far longer than the budget
    /// (a real wait) shrinks it. Never below a wake-up, never above half a millisecond.
    /// </summary>
    private void Adapt(long elapsed, bool slept)
    {
        if (!_spins || !slept) return;
        var budget = Volatile.Read(ref _spinTicks);
        if (elapsed < budget * 3) Volatile.Write(ref _spinTicks, Math.Min(budget * 2, MaxSpinTicks));
        else if (elapsed > budget * 16) Volatile.Write(ref _spinTicks, Math.Max(budget * 3 / 4, MinSpinTicks));
    }

    /// <summary>Delivers every result in the completion ring; how many.</summary>
    private int Drain()
    {
        var delivered = 0;
        try
        {
            while (true)
            {
                var status = _completions.TryRead(out var record);
                if (status != RingStatus.Ok)
                {
                    if (status == RingStatus.Corrupt) Break();
                    return delivered;
                }
                delivered++;
                if (record.Type == (int)GateRecord.Frame)
                {
                    var frame = record.Payload;
                    if (frame.Length < FrameHeader.Size || MemoryMarshal.Read<FrameHeader>(frame).Length != frame.Length)
                        throw new ProtocolViolationException($"a completion record of {frame.Length} bytes does not hold one frame");
                    // The payload is read in place (the kernel is trusted; one copy, into the caller's buffer), then given back.
                    _connection.Deliver(frame);
                    _completions.Release();
                }
                else if (record.Type == (int)GateRecord.FrameOnSocket)
                {
                    _completions.Release();
                    var frame = _receiver.Receive(_socket) ?? throw new ProtocolViolationException("the kernel closed the socket before a frame it announced");
                    _connection.Deliver(frame.Span);
                }
                else
                {
                    throw new ProtocolViolationException($"a completion record of type {record.Type}");
                }
            }
        }
        catch (ProtocolViolationException)
        {
            Break();
        }
        catch (SocketException)
        {
            Break();
        }
        catch (ObjectDisposedException)
        {
            Break();
        }
        return delivered;
    }

    private void Break() => _connection.Break(Abi.NtStatus.STATUS_PORT_DISCONNECTED);

    /// <summary>The connection is gone: wake whoever sleeps on the ring.</summary>
    public void Cancel()
    {
        _completions.Cancel();
        _backgroundWake.Set();
    }

    private void BackgroundLoop()
    {
        while (!_disposed)
        {
            _backgroundWake.Wait(TimeSpan.FromSeconds(1));
            _backgroundWake.Reset();
            while (!_disposed && _connection.Expecting > 0 && _connection.IsConnected && TryLead())
            {
                try
                {
                    Lead(null);
                }
                finally
                {
                    _ledByThisThread = null;
                    Interlocked.Exchange(ref _lead, 0);
                }
            }
        }
    }

    /// <summary>After the connection is gone: the background thread leaves; its memory goes once nobody can use it.</summary>
    public void Dispose()
    {
        _disposed = true;
        _backgroundWake.Set();
        if (_background.Join(TimeSpan.FromSeconds(5))) _backgroundWake.Dispose();
        // A leader still inside a socket read keeps the receiver's buffer (it fails out on the shut socket).
        if (Volatile.Read(ref _lead) == 0) _receiver.Dispose();
    }
}
