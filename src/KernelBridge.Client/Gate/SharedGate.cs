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
/// no system call unless the kernel's poller sleeps), results come out of the completion ring
/// through the <see cref="CompletionReader"/> (whoever waits for a result reads it). Frames too
/// long for a record travel on the control socket, their place in the order held by a marker
/// record. A watcher thread learns from the socket when the kernel is gone.
/// </summary>
internal sealed unsafe class SharedGate : IDisposable
{
    private const int SleepMilliseconds = 100;

    private readonly GateConnection _connection;
    private readonly Socket _socket;
    private readonly FrameSender _sender;
    private readonly SharedMemory _area;
    private readonly RingWriter _submissions;
    private readonly CompletionReader _reader;
    private readonly Lock _socketOrder = new();
    private readonly Thread _watcher;
    private volatile bool _disposed;

    private SharedGate(GateConnection connection, Socket socket, FrameSender sender, SharedMemory area,
        RingWriter submissions, RingReader completions, bool spins)
    {
        _connection = connection;
        _socket = socket;
        _sender = sender;
        _area = area;
        _submissions = submissions;
        _reader = new CompletionReader(connection, socket, area, completions, spins);
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
            gate._reader.Start();
            gate._watcher.Start();
            return gate;
        }
        catch
        {
            area.Dispose();
            throw;
        }
    }

    /// <summary>The largest frame that travels as a ring record; longer ones go by socket.</summary>
    public int MaxRecordLength => _submissions.Geometry.MaxPayloadLength;

    /// <summary>
    /// Sends one frame: a record in the submission ring, or a marker there and the frame on the socket.
    /// Waits (bounded steps, while connected) if the ring is full. False if the connection is gone.
    /// </summary>
    public bool Submit<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart,
        ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged
    {
        var length = FrameLayout.Length<T>(data1, data2);
        var added = false;
        try
        {
            _area.DangerousAddRef(ref added);
            if (length <= MaxRecordLength)
            {
                if (!Reserve((int)GateRecord.Frame, length, out var reservation)) return false;
                FrameLayout.Write(reservation.Payload, new FrameHeader((uint)length, kind, code, sequence, value), in fixedPart, data1, data2);
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
    public void WaitFor(GateCall call) => _reader.WaitFor(call);

    /// <summary>After an asynchronous send: make sure some thread will read its result.</summary>
    public void EnsureReader() => _reader.EnsureReader();

    /// <summary>The connection is gone: wake whoever sleeps on either ring.</summary>
    public void Cancel()
    {
        var added = false;
        try
        {
            _area.DangerousAddRef(ref added);
            _reader.Cancel();
            _submissions.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (added) _area.DangerousRelease();
        }
    }

    /// <summary>Nothing is read from the socket unless a marker says so: this thread only learns when the kernel hangs up.</summary>
    private void WatchLoop()
    {
        while (!_disposed)
        {
            if (!Libc.WaitForHangUp(_socket.SafeHandle, 1000)) continue;
            _connection.Break(Abi.NtStatus.STATUS_PORT_DISCONNECTED);
            return;
        }
    }

    /// <summary>After the socket is shut down: the threads leave, and the area is unmapped once no thread uses it.</summary>
    public void Dispose()
    {
        _disposed = true;
        Cancel();
        _watcher.Join(TimeSpan.FromSeconds(5));
        _reader.Dispose();
        // Unmapped once no thread holds a reference (a leader or a submitter still inside keeps it mapped).
        _area.Dispose();
    }
}
