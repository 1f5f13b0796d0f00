using System.Collections.Concurrent;
using System.Net.Sockets;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Platform;

/// <summary>
/// The descriptors that arrived on a stream socket, in order. Linux ends a read at the message that
/// carried descriptors, so by the time a frame is whole, the descriptors sent with it are here, and
/// taking them in order pairs each with its frame. Whatever is not taken is closed on dispose.
/// </summary>
public sealed class ReceivedDescriptors : IDisposable
{
    private readonly ConcurrentQueue<SafeFileHandle> _queue = new();

    /// <summary>Receives into <paramref name="buffer"/>, keeping the descriptors that came; the bytes read (0 at end of stream).</summary>
    public int Receive(Socket socket, Span<byte> buffer)
    {
        var descriptors = _received ??= new SafeFileHandle?[Libc.MaxDescriptorsPerMessage];
        while (true)
        {
            var read = Libc.ReceiveWithDescriptors(socket.SafeHandle, buffer, descriptors, out var count, out var errno);
            for (var i = 0; i < count; i++)
            {
                _queue.Enqueue(descriptors[i]!);
                descriptors[i] = null;
            }
            if (read >= 0) return read;
            // .NET may have made the socket non-blocking (it does for asynchronous use): wait as a blocking read would.
            if (errno != Libc.EAGAIN) throw new SocketException(errno);
            socket.Poll(-1, SelectMode.SelectRead);
        }
    }

    // One per thread that reads (a receive allocates nothing).
    [ThreadStatic] private static SafeFileHandle?[]? _received;

    /// <summary>The oldest descriptor not yet taken, or null.</summary>
    public SafeFileHandle? Take() => _queue.TryDequeue(out var descriptor) ? descriptor : null;

    public void Dispose()
    {
        while (_queue.TryDequeue(out var descriptor)) descriptor.Dispose();
    }
}
