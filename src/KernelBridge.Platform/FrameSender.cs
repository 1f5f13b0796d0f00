using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Platform;

/// <summary>
/// Writes whole frames to a socket, one at a time (callers on any thread), blocking until each is
/// sent: the client's way, where the caller waits for its call anyway. The frame is assembled in
/// one buffer so it leaves in a single send; a buffer grown for a large frame is given back after
/// it. (The kernel never blocks on a client: it sends with <see cref="QueuedFrameSender"/>.)
/// </summary>
public sealed class FrameSender(Socket socket) : IDisposable
{
    private const int SmallBufferLength = 8 * 1024;

    private readonly Lock _lock = new();
    private byte[] _buffer = [];
    private bool _disposed;

    public Socket Socket => socket;

    /// <summary>Sends header + fixed part + up to two data parts. False if the connection is gone.</summary>
    public bool Send<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart,
        ReadOnlySpan<byte> data1 = default, ReadOnlySpan<byte> data2 = default) where T : unmanaged
    {
        var length = FrameLayout.Length<T>(data1, data2);
        if (length > WireProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(data1), $"frame of {length} bytes exceeds {WireProtocol.MaxFrameLength}");
        lock (_lock)
        {
            if (_disposed) return false;
            if (_buffer.Length < length)
            {
                if (_buffer.Length > 0) TransferBufferPool.Shared.Return(_buffer);
                _buffer = TransferBufferPool.Shared.Rent(Math.Max(length, SmallBufferLength));
            }
            var span = _buffer.AsSpan(0, length);
            FrameLayout.Write(span, new FrameHeader((uint)length, kind, code, sequence, value), in fixedPart, data1, data2);
            try
            {
                var sent = 0;
                while (sent < length) sent += socket.Send(span[sent..], SocketFlags.None);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            finally
            {
                if (_buffer.Length > SmallBufferLength)
                {
                    TransferBufferPool.Shared.Return(_buffer);
                    _buffer = [];
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_buffer.Length > 0) TransferBufferPool.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
