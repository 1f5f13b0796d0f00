using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Kernel.Gate.Shared;

/// <summary>
/// The kernel's sends to one shared-memory client: each frame becomes a record in the completion
/// ring, written in place (no copy, no allocation, no system call unless the client sleeps). A
/// frame longer than a record may be leaves a <see cref="GateRecord.FrameOnSocket"/> record and goes
/// by socket. Sends never block: when the ring is full, frames wait here in order (and everything
/// after them too) until the client releases space, which wakes the poller to drain them; a client
/// that lets more than the backlog limit pile up has stopped reading and is given up on.
/// </summary>
internal sealed class CompletionChannel(RingWriter ring, QueuedFrameSender socket, long maxBacklog, Action<long> overflowed,
    Action<string> corrupted, Action spaceWanted)
{
    private readonly Lock _lock = new();
    private readonly Queue<(byte[] Frame, int Length, SafeFileHandle? Descriptor)> _waiting = new();
    private long _backlog;
    private bool _closed;
    private volatile bool _wantsSpace;

    /// <summary>Frames wait for ring space: the poller watches the ring's space signal and calls <see cref="Drain"/>.</summary>
    public bool WantsSpace => _wantsSpace;

    /// <summary>As <see cref="QueuedFrameSender.Send{T}"/>: false if the client is gone or has just been given up on; never blocks.</summary>
    public bool Send<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart,
        ReadOnlySpan<byte> data1 = default, ReadOnlySpan<byte> data2 = default) where T : unmanaged
    {
        var length = FrameLayout.Length<T>(data1, data2);
        if (length > WireProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(data1), $"frame of {length} bytes exceeds {WireProtocol.MaxFrameLength}");
        var header = new FrameHeader((uint)length, kind, code, sequence, value);
        long overflow;
        string? corruption = null;
        lock (_lock)
        {
            if (_closed) return false;
            if (_waiting.Count == 0)
            {
                var status = length <= ring.Geometry.MaxPayloadLength
                    ? WriteRecord(in header, in fixedPart, data1, data2)
                    : WriteOnSocket(in header, in fixedPart, data1, data2);
                if (status == RingStatus.Ok) return true;
                if (status != RingStatus.Full)
                {
                    _closed = true;
                    corruption = status.ToString();
                }
            }
            overflow = corruption is null ? Enqueue(in header, in fixedPart, data1, data2) : 0;
        }
        if (corruption is not null)
        {
            corrupted($"its completion ring is {corruption}");
            return false;
        }
        if (overflow != 0)
        {
            overflowed(overflow);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A frame that carries a descriptor (a view to map): it always goes by socket, its marker holding
    /// its place in the ring's order; while frames wait, it waits behind them with its own copy of the descriptor.
    /// </summary>
    public bool SendWithDescriptor(ReadOnlySpan<byte> frame, SafeFileHandle descriptor)
    {
        long overflow = 0;
        string? corruption = null;
        lock (_lock)
        {
            if (_closed) return false;
            if (_waiting.Count == 0)
            {
                var status = ring.TryReserve((int)GateRecord.FrameOnSocket, 0, out var marker);
                if (status == RingStatus.Ok)
                {
                    var sent = socket.SendFrameWithDescriptor(frame, descriptor);
                    CommitMarker(marker);
                    return sent;
                }
                if (status != RingStatus.Full)
                {
                    _closed = true;
                    corruption = status.ToString();
                }
            }
            if (corruption is null)
            {
                var copy = Libc.Duplicate(descriptor, out _);
                if (copy is null) return false;
                overflow = Enqueue(frame, copy);
            }
        }
        if (corruption is not null)
        {
            corrupted($"its completion ring is {corruption}");
            return false;
        }
        if (overflow != 0)
        {
            overflowed(overflow);
            return false;
        }
        return true;
    }

    private RingStatus WriteRecord<T>(in FrameHeader header, in T fixedPart, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged
    {
        var status = ring.TryReserve((int)GateRecord.Frame, (int)header.Length, out var reservation);
        if (status != RingStatus.Ok) return status;
        FrameLayout.Write(reservation.Payload, in header, in fixedPart, data1, data2);
        reservation.Commit();
        ring.Notify();
        return RingStatus.Ok;
    }

    /// <summary>
    /// The marker's place is reserved first (it holds the frame's place in the order), the frame goes
    /// on the socket, then the marker is committed: a client that sees the marker finds the frame
    /// already there, and reads it without sleeping on the socket (a wake-up costs tens of µs here).
    /// </summary>
    private RingStatus WriteOnSocket<T>(in FrameHeader header, in T fixedPart, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged
    {
        var status = ring.TryReserve((int)GateRecord.FrameOnSocket, 0, out var marker);
        if (status != RingStatus.Ok) return status;
        socket.Send(header.Kind, header.Code, header.Sequence, header.Value, in fixedPart, data1, data2);
        CommitMarker(marker);
        return RingStatus.Ok;
    }

    private void CommitMarker(RingReservation marker)
    {
        marker.Commit();
        ring.Notify();
    }

    /// <summary>Copies the frame to the end of the waiting queue; the backlog that passed the limit, or 0.</summary>
    private long Enqueue<T>(in FrameHeader header, in T fixedPart, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged
    {
        var length = (int)header.Length;
        if (_backlog + length > maxBacklog)
        {
            _closed = true;
            var overflow = _backlog + length;
            ReleaseWaiting();
            return overflow;
        }
        var frame = TransferBufferPool.Shared.Rent(length);
        FrameLayout.Write(frame.AsSpan(0, length), in header, in fixedPart, data1, data2);
        Queue(frame, length, null);
        return 0;
    }

    /// <summary>As <see cref="Enqueue{T}"/>, for an assembled frame with a descriptor (which the queue then owns).</summary>
    private long Enqueue(ReadOnlySpan<byte> assembled, SafeFileHandle descriptor)
    {
        if (_backlog + assembled.Length > maxBacklog)
        {
            descriptor.Dispose();
            _closed = true;
            var overflow = _backlog + assembled.Length;
            ReleaseWaiting();
            return overflow;
        }
        var frame = TransferBufferPool.Shared.Rent(assembled.Length);
        assembled.CopyTo(frame);
        Queue(frame, assembled.Length, descriptor);
        return 0;
    }

    private void Queue(byte[] frame, int length, SafeFileHandle? descriptor)
    {
        _waiting.Enqueue((frame, length, descriptor));
        _backlog += length;
        if (!_wantsSpace)
        {
            _wantsSpace = true;
            spaceWanted();
        }
    }

    /// <summary>
    /// Moves waiting frames into the ring while they fit (the poller calls this when the client
    /// released space, and before it sleeps). False while some still wait: sleep on <see cref="SpaceSignal"/>.
    /// </summary>
    public unsafe bool Drain(out uint* spaceSignal, out uint signal)
    {
        spaceSignal = ring.SpaceSignal;
        signal = 0;
        string? corruption = null;
        lock (_lock)
        {
            while (!_closed && _waiting.TryPeek(out var next))
            {
                var frame = next.Frame.AsSpan(0, next.Length);
                var status = WriteWaiting(frame, next.Descriptor);
                if (status == RingStatus.Full)
                {
                    // Raise the flag, then look again: a release in between would otherwise be missed.
                    var again = ring.PrepareToWaitForSpace(next.Length, out signal);
                    if (again == RingStatus.Ok) continue;
                    if (again is RingStatus.Full or RingStatus.Cancelled) return false;
                    status = again;
                }
                if (status != RingStatus.Ok)
                {
                    _closed = true;
                    corruption = status.ToString();
                    ReleaseWaiting();
                    break;
                }
                _waiting.Dequeue();
                _backlog -= next.Length;
                next.Descriptor?.Dispose();
                TransferBufferPool.Shared.Return(next.Frame);
            }
            _wantsSpace = false;
        }
        if (corruption is not null) corrupted($"its completion ring is {corruption}");
        return true;
    }

    private RingStatus WriteWaiting(ReadOnlySpan<byte> frame, SafeFileHandle? descriptor)
    {
        if (frame.Length > ring.Geometry.MaxPayloadLength || descriptor is not null)
        {
            var marked = ring.TryReserve((int)GateRecord.FrameOnSocket, 0, out var marker);
            if (marked != RingStatus.Ok) return marked;
            if (descriptor is not null) socket.SendFrameWithDescriptor(frame, descriptor);
            else socket.SendFrame(frame);
            CommitMarker(marker);
            return RingStatus.Ok;
        }
        var status = ring.TryWrite((int)GateRecord.Frame, frame);
        if (status == RingStatus.Ok) ring.Notify();
        return status;
    }

    private void ReleaseWaiting()
    {
        while (_waiting.TryDequeue(out var frame))
        {
            frame.Descriptor?.Dispose();
            TransferBufferPool.Shared.Return(frame.Frame);
        }
        _backlog = 0;
        _wantsSpace = false;
    }

    /// <summary>Sends nothing more; waiting frames are dropped.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            ReleaseWaiting();
        }
    }
}
