using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>
/// Sends frames without ever blocking the caller: the kernel's threads complete IRPs and serve
/// every client, so none of them may wait for one client to read. A frame goes straight to the
/// socket when it has room (the common case: one gathered send, no copy, no allocation); what
/// does not fit waits in this connection's queue, in order, and an asynchronous writer drains it
/// as the peer reads. A peer whose backlog would pass the limit has stopped reading: the sender
/// gives up on it, says so once through the overflow callback, and sends nothing more.
/// </summary>
public sealed class QueuedFrameSender : IDisposable
{
    /// <summary>Queued frames share chunks of this size (a larger frame gets a chunk of its own).</summary>
    private const int ChunkLength = 64 * 1024;

    private const int MaxStackHead = 512;

    private sealed class Chunk(byte[] buffer)
    {
        public readonly byte[] Buffer = buffer;
        public int Length;
        public int Sent;
        /// <summary>A descriptor that must travel with this chunk's first byte (a chunk of its own, one frame).</summary>
        public SafeHandle? Descriptor;
    }

    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly long _maxBacklog;
    private readonly Action<long> _overflowed;
    private readonly Lock _lock = new();
    private readonly Queue<Chunk> _queue = new();
    // All guarded by _lock.
    private Chunk? _tail;
    private long _backlog;
    private bool _writing;
    private bool _closed;

    /// <param name="socket">The peer's connected stream socket.</param>
    /// <param name="maxBacklog">The most bytes that may wait for the peer to read them.</param>
    /// <param name="overflowed">Called once (outside any lock) with the backlog that would have passed the limit.</param>
    public QueuedFrameSender(Socket socket, long maxBacklog, Action<long> overflowed)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBacklog);
        _socket = socket;
        _handle = socket.SafeHandle;
        _maxBacklog = maxBacklog;
        _overflowed = overflowed;
    }

    /// <summary>Bytes waiting for the peer to read them.</summary>
    public long Backlog
    {
        get
        {
            lock (_lock) return _backlog;
        }
    }

    /// <summary>
    /// Sends header + fixed part + up to two data parts, now or after what is already queued.
    /// False if the connection is gone or has just been given up on; never blocks.
    /// </summary>
    public bool Send<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart,
        ReadOnlySpan<byte> data1 = default, ReadOnlySpan<byte> data2 = default) where T : unmanaged
    {
        var headLength = FrameHeader.Size + Unsafe.SizeOf<T>();
        var length = headLength + data1.Length + data2.Length;
        if (length > WireProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(data1), $"frame of {length} bytes exceeds {WireProtocol.MaxFrameLength}");
        var head = headLength <= MaxStackHead ? stackalloc byte[headLength] : new byte[headLength];
        var header = new FrameHeader((uint)length, kind, code, sequence, value);
        MemoryMarshal.Write(head, in header);
        MemoryMarshal.Write(head[FrameHeader.Size..], in fixedPart);
        return SendParts(head, data1, data2);
    }

    /// <summary>As <see cref="Send{T}"/>, for a frame already assembled (header first).</summary>
    public bool SendFrame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < FrameHeader.Size || frame.Length > WireProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(frame), $"a frame of {frame.Length} bytes");
        return SendParts(frame, default, default);
    }

    /// <summary>
    /// As <see cref="SendFrame"/>, with <paramref name="descriptor"/> attached to the frame's first
    /// byte (SCM_RIGHTS). A frame that must wait keeps its own copy of the descriptor until it goes.
    /// </summary>
    public bool SendFrameWithDescriptor(ReadOnlySpan<byte> frame, SafeHandle descriptor)
    {
        if (frame.Length < FrameHeader.Size || frame.Length > WireProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(frame), $"a frame of {frame.Length} bytes");
        long overflow = 0;
        var startWriter = false;
        lock (_lock)
        {
            if (_closed) return false;
            var sent = 0;
            if (!_writing)
            {
                try
                {
                    sent = Libc.SendWithDescriptors(_handle, frame, [descriptor], out var errno, nonBlocking: true);
                    if (sent < 0 && errno == Libc.EAGAIN) sent = 0;
                }
                catch (ObjectDisposedException)
                {
                    sent = -1;
                }
                if (sent < 0)
                {
                    _closed = true;
                    return false;
                }
                if (sent == frame.Length) return true;
            }
            if (_backlog + (frame.Length - sent) > _maxBacklog)
            {
                _closed = true;
                overflow = _backlog + (frame.Length - sent);
                if (!_writing) ReleaseQueueUnsynchronized();
            }
            else if (sent > 0)
            {
                // The descriptor went with the first byte; the rest is plain bytes.
                EnqueueUnsynchronized(frame, default, default, sent);
                _backlog += frame.Length - sent;
                startWriter = true;
                _writing = true;
            }
            else
            {
                var copy = Libc.Duplicate(descriptor, out _);
                if (copy is null)
                {
                    _closed = true;
                    return false;
                }
                var chunk = new Chunk(TransferBufferPool.Shared.Rent(frame.Length)) { Length = frame.Length, Descriptor = copy };
                frame.CopyTo(chunk.Buffer);
                _queue.Enqueue(chunk);
                _tail = null;
                _backlog += frame.Length;
                startWriter = !_writing;
                _writing = true;
            }
        }
        if (overflow != 0)
        {
            _overflowed(overflow);
            return false;
        }
        if (startWriter) _ = WriteQueueAsync();
        return true;
    }

    private bool SendParts(ReadOnlySpan<byte> head, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2)
    {
        var length = head.Length + data1.Length + data2.Length;
        long overflow = 0;
        var startWriter = false;
        lock (_lock)
        {
            if (_closed) return false;
            var sent = 0;
            if (!_writing)
            {
                try
                {
                    sent = Libc.SendWithoutBlocking(_handle, head, data1, data2, out _);
                }
                catch (ObjectDisposedException)
                {
                    sent = -1;
                }
                if (sent < 0)
                {
                    _closed = true;
                    return false;
                }
                if (sent == length) return true;
            }
            if (_backlog + (length - sent) > _maxBacklog)
            {
                _closed = true;
                overflow = _backlog + (length - sent);
                if (!_writing) ReleaseQueueUnsynchronized();
            }
            else
            {
                EnqueueUnsynchronized(head, data1, data2, sent);
                _backlog += length - sent;
                startWriter = !_writing;
                _writing = true;
            }
        }
        if (overflow != 0)
        {
            _overflowed(overflow);
            return false;
        }
        if (startWriter) _ = WriteQueueAsync();
        return true;
    }

    /// <summary>Copies what was not sent of the three parts (skipping <paramref name="skip"/> bytes) to the end of the queue.</summary>
    private void EnqueueUnsynchronized(ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3, int skip)
    {
        var rest = part1.Length + part2.Length + part3.Length - skip;
        Append(part1, ref skip, ref rest);
        Append(part2, ref skip, ref rest);
        Append(part3, ref skip, ref rest);
    }

    private void Append(ReadOnlySpan<byte> part, ref int skip, ref int rest)
    {
        var skipped = Math.Min(skip, part.Length);
        skip -= skipped;
        part = part[skipped..];
        while (!part.IsEmpty)
        {
            if (_tail is null || _tail.Length == _tail.Buffer.Length)
            {
                _tail = new Chunk(TransferBufferPool.Shared.Rent(Math.Max(ChunkLength, rest)));
                _queue.Enqueue(_tail);
            }
            var count = Math.Min(part.Length, _tail.Buffer.Length - _tail.Length);
            part[..count].CopyTo(_tail.Buffer.AsSpan(_tail.Length));
            _tail.Length += count;
            part = part[count..];
            rest -= count;
        }
    }

    /// <summary>Drains the queue in order; the only code that sends while it runs, and the only reader of queued chunks.</summary>
    private async Task WriteQueueAsync()
    {
        try
        {
            while (true)
            {
                Chunk chunk;
                int from, to;
                lock (_lock)
                {
                    if (_closed || !_queue.TryPeek(out chunk!)) break;
                    from = chunk.Sent;
                    to = chunk.Length;
                    if (from == to)
                    {
                        // Sent in full, and nobody appended since: drop it.
                        _queue.Dequeue();
                        if (_tail == chunk) _tail = null;
                        TransferBufferPool.Shared.Return(chunk.Buffer);
                        continue;
                    }
                }
                var sent = chunk.Descriptor is { } descriptor
                    ? await SendWithDescriptorAsync(chunk.Buffer.AsMemory(from, to - from), descriptor).ConfigureAwait(false)
                    : await _socket.SendAsync(chunk.Buffer.AsMemory(from, to - from), SocketFlags.None).ConfigureAwait(false);
                if (chunk.Descriptor is not null)
                {
                    chunk.Descriptor.Dispose();
                    chunk.Descriptor = null;
                }
                lock (_lock)
                {
                    chunk.Sent += sent;
                    _backlog -= sent;
                }
            }
        }
        catch (SocketException)
        {
            Close();
        }
        catch (ObjectDisposedException)
        {
            Close();
        }
        finally
        {
            lock (_lock)
            {
                _writing = false;
                if (_closed) ReleaseQueueUnsynchronized();
            }
        }
    }

    /// <summary>
    /// A queued frame's first bytes with its descriptor. Sockets have no asynchronous sendmsg with
    /// ancillary data, so a full socket is polled; this runs only while the peer is not reading.
    /// </summary>
    private async Task<int> SendWithDescriptorAsync(ReadOnlyMemory<byte> bytes, SafeHandle descriptor)
    {
        while (true)
        {
            var sent = Libc.SendWithDescriptors(_handle, bytes.Span, [descriptor], out var errno, nonBlocking: true);
            if (sent >= 0) return sent;
            if (errno != Libc.EAGAIN) throw new SocketException(errno);
            lock (_lock) ObjectDisposedException.ThrowIf(_closed, this);
            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    private void Close()
    {
        lock (_lock) _closed = true;
    }

    /// <summary>Gives the queued chunks back (only when no writer is sending from them).</summary>
    private void ReleaseQueueUnsynchronized()
    {
        while (_queue.TryDequeue(out var chunk))
        {
            chunk.Descriptor?.Dispose();
            TransferBufferPool.Shared.Return(chunk.Buffer);
        }
        _tail = null;
        _backlog = 0;
    }

    /// <summary>Sends nothing more; queued frames are dropped (a writer in the middle of a send lets go when the socket closes).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            if (!_writing) ReleaseQueueUnsynchronized();
        }
    }
}
