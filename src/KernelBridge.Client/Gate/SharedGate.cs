using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The client's half of the shared-memory gate: calls go into the submission ring (any thread,
/// no system call unless the kernel's poller sleeps), results come out of the completion ring.
/// Whoever waits for a result reads the completion ring itself, one thread at a time (the
/// "leader"): a blocking caller leads while it waits — it spins for a budget that adapts to the
/// kernel's answers and always exceeds a wake-up, then sleeps on the ring's doorbell — and a
/// background thread leads when only asynchronous calls and pended requests are waiting. Frames
/// too long for a record travel on the control socket, their place in the order held by a marker
/// record. A watcher thread learns from the socket when the kernel is gone.
/// </summary>
internal sealed unsafe class SharedGate : IDisposable
{
    private static readonly long MinSpinTicks = Stopwatch.Frequency * 30 / 1_000_000;
    private static readonly long FirstSpinTicks = Stopwatch.Frequency * 60 / 1_000_000;
    private static readonly long MaxSpinTicks = Stopwatch.Frequency * 500 / 1_000_000;
    private const int SleepMilliseconds = 100;

    [ThreadStatic] private static SharedGate? _ledByThisThread;

    private readonly GateConnection _connection;
    private readonly Socket _socket;
    private readonly FrameSender _sender;
    private readonly FrameReceiver _receiver = new();
    private readonly SharedMemory _area;
    private readonly RingWriter _submissions;
    private readonly RingReader _completions;
    private readonly Lock _socketOrder = new();
    private readonly ManualResetEventSlim _backgroundWake = new(false, spinCount: 0);
    private readonly Thread _background;
    private readonly Thread _watcher;
    private readonly bool _spins;
    private long _spinTicks;
    private int _lead;
    private volatile bool _disposed;

    private SharedGate(GateConnection connection, Socket socket, FrameSender sender, SharedMemory area,
        RingWriter submissions, RingReader completions, bool spins)
    {
        _connection = connection;
        _socket = socket;
        _sender = sender;
        _area = area;
        _submissions = submissions;
        _completions = completions;
        _spins = spins;
        _spinTicks = spins ? FirstSpinTicks : 0;
        _background = new Thread(BackgroundLoop) { IsBackground = true, Name = "KernelBridge completions" };
        _watcher = new Thread(WatchLoop) { IsBackground = true, Name = "KernelBridge gate watcher" };
    }

    /// <summary>
    /// Maps the area the kernel sent and attaches to its rings (it takes ownership of the descriptor);
    /// throws <see cref="KernelUnavailableException"/> if the area is not what the HelloReply says.
    /// </summary>
    public static SharedGate Open(GateConnection connection, Socket socket, FrameSender sender,
        Microsoft.Win32.SafeHandles.SafeFileHandle descriptor, in HelloReply hello, bool spins)
    {
        var area = SharedMemory.TryMap(descriptor, SyscallAreaLayout.MaxAreaLength, out var error)
            ?? throw new KernelUnavailableException($"the kernel's syscall area is unusable: {error}");
        try
        {
            var submissionLength = hello.SubmissionRingLength;
            var completionLength = hello.CompletionRingLength;
            if (submissionLength <= 0 || completionLength <= 0 || SyscallAreaLayout.AreaLength(submissionLength, completionLength) > area.Length)
                throw new KernelUnavailableException($"the kernel's syscall area of {area.Length} bytes cannot hold rings of {submissionLength} and {completionLength}");
            var sq = RingWriter.TryAttach(area.Pointer + SyscallAreaLayout.SubmissionOffset, submissionLength, FutexDoorbell.Instance, out var submissions);
            var cq = RingReader.TryAttach(area.Pointer + SyscallAreaLayout.CompletionOffset(submissionLength), completionLength, FutexDoorbell.Instance,
                out var completions);
            if (sq != RingStatus.Ok || cq != RingStatus.Ok)
                throw new KernelUnavailableException($"the kernel's syscall area has no usable rings (submission {sq}, completion {cq})");
            var gate = new SharedGate(connection, socket, sender, area, submissions!, completions!, spins);
            gate._background.Start();
            gate._watcher.Start();
            return gate;
        }
        catch
        {
            area.Dispose();
            throw;
        }
    }

    /// <summary>The kernel's advice (the control page); only read.</summary>
    private SyscallAreaControl* Control => (SyscallAreaControl*)_area.Pointer;

    /// <summary>The largest frame that travels as a ring record; longer ones go by socket.</summary>
    public int MaxRecordLength => _submissions.Geometry.MaxPayloadLength;

    /// <summary>
    /// Sends one frame: a record in the submission ring, or a marker there and the frame on the socket.
    /// Waits (bounded steps, while connected) if the ring is full. False if the connection is gone.
    /// </summary>
    public bool Submit<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart,
        ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged
    {
        var length = FrameHeader.Size + Unsafe.SizeOf<T>() + data1.Length + data2.Length;
        var added = false;
        try
        {
            _area.DangerousAddRef(ref added);
            if (length <= MaxRecordLength)
            {
                if (!Reserve((int)GateRecord.Frame, length, out var reservation)) return false;
                var payload = reservation.Payload;
                MemoryMarshal.Write(payload, new FrameHeader((uint)length, kind, code, sequence, value));
                MemoryMarshal.Write(payload[FrameHeader.Size..], in fixedPart);
                var offset = FrameHeader.Size + Unsafe.SizeOf<T>();
                data1.CopyTo(payload[offset..]);
                data2.CopyTo(payload[(offset + data1.Length)..]);
                reservation.Commit();
                _submissions.Notify();
                return true;
            }
            // Markers and socket frames pair up in order: one thread at a time writes both.
            lock (_socketOrder)
            {
                if (!Reserve((int)GateRecord.FrameOnSocket, 0, out var marker)) return false;
                marker.Commit();
                _submissions.Notify();
                return _sender.Send(kind, code, sequence, value, in fixedPart, data1, data2);
            }
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added) _area.DangerousRelease();
        }
    }

    private bool Reserve(int type, int length, out RingReservation reservation)
    {
        while (true)
        {
            var status = _submissions.TryReserve(type, length, out reservation);
            if (status == RingStatus.Ok) return true;
            if (status != RingStatus.Full || !_connection.IsConnected) return false;
            // The poller frees space as it serves; a kernel that stopped serving is noticed by the watcher.
            var waited = _submissions.WaitForSpace(length, TimeSpan.FromMilliseconds(SleepMilliseconds));
            if (waited is RingStatus.Cancelled or RingStatus.Corrupt) return false;
        }
    }

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

    /// <summary>The connection is gone: wake whoever sleeps on either ring.</summary>
    public void Cancel()
    {
        var added = false;
        try
        {
            _area.DangerousAddRef(ref added);
            _completions.Cancel();
            _submissions.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (added) _area.DangerousRelease();
        }
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

    /// <summary>Nothing is read from the socket unless a marker says so: this thread only learns when the kernel hangs up.</summary>
    private void WatchLoop()
    {
        while (!_disposed)
        {
            if (!Libc.WaitForHangUp(_socket.SafeHandle, 1000)) continue;
            Break();
            return;
        }
    }

    /// <summary>After the socket is shut down: the threads leave, and the area is unmapped once no thread uses it.</summary>
    public void Dispose()
    {
        _disposed = true;
        Cancel();
        _watcher.Join(TimeSpan.FromSeconds(5));
        var backgroundLeft = _background.Join(TimeSpan.FromSeconds(5));
        _area.Dispose();
        if (backgroundLeft) _backgroundWake.Dispose();
        // A leader still inside a socket read keeps the receiver's buffer (it fails out on the shut socket).
        if (Volatile.Read(ref _lead) == 0) _receiver.Dispose();
    }
}
