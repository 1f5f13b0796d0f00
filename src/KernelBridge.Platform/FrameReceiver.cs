using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Platform;

/// <summary>
/// Cuts a stream socket into frames. Reads in large chunks and hands out one frame at a time;
/// a frame's memory is valid until the next receive. A bad length is a protocol violation.
/// </summary>
public sealed class FrameReceiver : IDisposable
{
    /// <summary>The largest frame accepted now (smaller before the handshake: a stranger gets no big buffer).</summary>
    public int MaxFrameLength { get; set; } = WireProtocol.MaxFrameLength;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _start;
    private int _end;

    /// <summary>Blocks until a whole frame is in; null when the peer closed the connection cleanly.</summary>
    public ReadOnlyMemory<byte>? Receive(Socket socket)
    {
        while (true)
        {
            if (TryTakeFrame(out var frame)) return frame;
            var needed = MakeRoom();
            var read = socket.Receive(_buffer, _end, needed, SocketFlags.None);
            if (read == 0) return EndOfStream();
            _end += read;
        }
    }

    /// <summary>As <see cref="Receive"/>, without holding a thread while waiting (its state machine is pooled: no allocation per frame).</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTakeFrame(out var frame)) return frame;
            var needed = MakeRoom();
            var read = await socket.ReceiveAsync(_buffer.AsMemory(_end, needed), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0) return EndOfStream();
            _end += read;
        }
    }

    private ReadOnlyMemory<byte>? EndOfStream()
    {
        if (_end != _start) throw new ProtocolViolationException($"connection closed inside a frame ({_end - _start} bytes of it received)");
        return null;
    }

    private bool TryTakeFrame(out ReadOnlyMemory<byte> frame)
    {
        frame = default;
        var available = _end - _start;
        if (available < FrameHeader.Size) return false;
        var length = MemoryMarshal.Read<uint>(_buffer.AsSpan(_start));
        if (length < FrameHeader.Size || length > MaxFrameLength)
            throw new ProtocolViolationException($"frame length {length} is outside {FrameHeader.Size}..{MaxFrameLength}");
        if (available < length) return false;
        frame = _buffer.AsMemory(_start, (int)length);
        _start += (int)length;
        return true;
    }

    /// <summary>Compacts or grows the buffer so the current frame fits; returns the free space.</summary>
    private int MakeRoom()
    {
        var pending = _end - _start;
        var wanted = FrameHeader.Size;
        if (pending >= 4)
        {
            var length = MemoryMarshal.Read<uint>(_buffer.AsSpan(_start));
            if (length < FrameHeader.Size || length > MaxFrameLength)
                throw new ProtocolViolationException($"frame length {length} is outside {FrameHeader.Size}..{MaxFrameLength}");
            wanted = (int)length;
        }
        if (_start > 0 && (_buffer.Length - _end < wanted - pending || _start == _end))
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _start = 0;
            _end = pending;
        }
        if (_buffer.Length < wanted)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(wanted);
            _buffer.AsSpan(_start, pending).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
            _start = 0;
            _end = pending;
        }
        return _buffer.Length - _end;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
