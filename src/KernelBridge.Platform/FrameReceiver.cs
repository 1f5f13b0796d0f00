using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Platform;

/// <summary>
/// The largest length the frame with this header may have, decided as soon as the header is in
/// (before its body is read). It may also throw <see cref="ProtocolViolationException"/> itself.
/// </summary>
public delegate int FrameLengthLimit(in FrameHeader header);

/// <summary>
/// Cuts a stream socket into frames and hands out one at a time; a frame's memory is valid until
/// the next receive. A bad length is a protocol violation, caught when the header is in. The
/// buffer is small while frames are (an idle connection costs little), grows for a large frame
/// and is given back once that frame has been handed out.
/// </summary>
public sealed class FrameReceiver : IDisposable
{
    /// <summary>
    /// The buffer a connection keeps between frames (what an idle connection costs): a request
    /// without bulk data fits, and a larger frame is read into a buffer of its own.
    /// </summary>
    public const int SmallBufferLength = 4 * 1024;

    /// <summary>The largest frame accepted now (smaller before the handshake: a stranger gets no big buffer).</summary>
    public int MaxFrameLength { get; set; } = WireProtocol.MaxFrameLength;

    /// <summary>A tighter limit per frame (the kernel's per-service limits), checked with <see cref="MaxFrameLength"/>.</summary>
    public FrameLengthLimit? LengthLimit { get; set; }

    /// <summary>
    /// Where descriptors that come with the bytes go (SCM_RIGHTS), in arrival order; null: none are
    /// accepted (a plain receive, which closes any a peer sends).
    /// </summary>
    public ReceivedDescriptors? Descriptors { get; init; }

    private byte[] _buffer = [];
    private int _start;
    private int _end;
    // The length of the frame at _start once its header has been checked (0: not checked yet).
    private int _checkedLength;

    /// <summary>Blocks until a whole frame is in; null when the peer closed the connection cleanly.</summary>
    public ReadOnlyMemory<byte>? Receive(Socket socket)
    {
        FitBufferToPending();
        while (true)
        {
            if (TryTakeFrame(out var frame)) return frame;
            var needed = MakeRoom();
            var read = Descriptors is { } descriptors
                ? descriptors.Receive(socket, _buffer.AsSpan(_end, needed))
                : socket.Receive(_buffer, _end, needed, SocketFlags.None);
            if (read == 0) return EndOfStream();
            _end += read;
        }
    }

    /// <summary>As <see cref="Receive"/>, without holding a thread while waiting (its state machine is pooled: no allocation per frame).</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        FitBufferToPending();
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
        var length = CheckedLength();
        if (length == 0 || _end - _start < length) return false;
        frame = _buffer.AsMemory(_start, length);
        _start += length;
        _checkedLength = 0;
        return true;
    }

    /// <summary>The length of the frame at the start of the buffer, checked once its header is in; 0 before that.</summary>
    private int CheckedLength()
    {
        if (_checkedLength != 0) return _checkedLength;
        if (_end - _start < FrameHeader.Size) return 0;
        var header = MemoryMarshal.Read<FrameHeader>(_buffer.AsSpan(_start));
        var limit = MaxFrameLength;
        if (LengthLimit is { } perFrame) limit = Math.Min(limit, perFrame(in header));
        if (header.Length < FrameHeader.Size || header.Length > limit)
            throw new ProtocolViolationException($"{header.Kind} frame (code {header.Code}) of {header.Length} bytes is outside {FrameHeader.Size}..{limit}");
        return _checkedLength = (int)header.Length;
    }

    /// <summary>Compacts or grows the buffer so the current frame fits; returns the free space.</summary>
    private int MakeRoom()
    {
        var pending = _end - _start;
        var wanted = Math.Max(CheckedLength(), FrameHeader.Size);
        if (_buffer.Length < wanted || _buffer.Length < SmallBufferLength)
        {
            MoveTo(TransferBufferPool.Shared.Rent(Math.Max(wanted, SmallBufferLength)));
        }
        else if (_start > 0 && (_buffer.Length - _end < wanted - pending || _start == _end))
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _start = 0;
            _end = pending;
        }
        return _buffer.Length - _end;
    }

    /// <summary>Before waiting for the next frame: a buffer grown for a large one goes back, the bytes already in stay.</summary>
    private void FitBufferToPending()
    {
        if (_buffer.Length > SmallBufferLength && _end - _start <= SmallBufferLength)
            MoveTo(TransferBufferPool.Shared.Rent(SmallBufferLength));
    }

    private void MoveTo(byte[] buffer)
    {
        var pending = _end - _start;
        _buffer.AsSpan(_start, pending).CopyTo(buffer);
        if (_buffer.Length > 0) TransferBufferPool.Shared.Return(_buffer);
        _buffer = buffer;
        _start = 0;
        _end = pending;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) TransferBufferPool.Shared.Return(buffer);
    }
}
