using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>A frame as it came off the wire.</summary>
internal sealed record RawFrame(FrameHeader Header, byte[] Body)
{
    public T Read<T>() where T : unmanaged => MemoryMarshal.Read<T>(Body);
}

/// <summary>
/// A client that speaks the wire protocol by hand, so a test can send exactly the bytes it wants
/// (good or malformed) and see exactly what comes back. Every receive is bounded.
/// </summary>
internal sealed class RawGate : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private uint _sequence;

    public RawGate(string socketPath)
    {
        Socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            Socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch
        {
            Socket.Dispose();
            throw;
        }
    }

    public Socket Socket { get; }

    public static RawGate Connect(string instance) => new(InstanceDirectory.Open(instance, create: false).SocketPath);

    /// <summary>Header + body, with whatever Length field the caller says (it may lie).</summary>
    public static byte[] Frame(uint length, FrameKind kind, ushort code, uint sequence, int value, ReadOnlySpan<byte> body = default)
    {
        var bytes = new byte[FrameHeader.Size + body.Length];
        var header = new FrameHeader(length, kind, code, sequence, value);
        MemoryMarshal.Write(bytes, in header);
        body.CopyTo(bytes.AsSpan(FrameHeader.Size));
        return bytes;
    }

    /// <summary>A well-formed frame: header, fixed part, data.</summary>
    public static byte[] Frame<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart, ReadOnlySpan<byte> data = default)
        where T : unmanaged
    {
        var body = new byte[Unsafe.SizeOf<T>() + data.Length];
        MemoryMarshal.Write(body, in fixedPart);
        data.CopyTo(body.AsSpan(Unsafe.SizeOf<T>()));
        return Frame((uint)(FrameHeader.Size + body.Length), kind, code, sequence, value, body);
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        var sent = 0;
        while (sent < bytes.Length) sent += Socket.Send(bytes[sent..], SocketFlags.None);
    }

    public void SendHello(uint magic = WireProtocol.Magic, uint version = WireProtocol.Version) =>
        Send(Frame(FrameKind.Hello, 0, 0, 0, new HelloRequest(magic, version, 0)));

    /// <summary>The next frame, or null if the peer closed (or reset) the connection; throws on timeout.</summary>
    public RawFrame? Receive(TimeSpan? timeout = null)
    {
        Socket.ReceiveTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        var header = new byte[FrameHeader.Size];
        if (!ReceiveExactly(header)) return null;
        var parsed = MemoryMarshal.Read<FrameHeader>(header);
        if (parsed.Length < FrameHeader.Size || parsed.Length > WireProtocol.MaxFrameLength)
            throw new InvalidDataException($"the kernel sent a frame of length {parsed.Length}");
        var body = new byte[parsed.Length - FrameHeader.Size];
        if (!ReceiveExactly(body)) throw new InvalidDataException("the kernel closed the connection inside a frame");
        return new RawFrame(parsed, body);
    }

    private bool ReceiveExactly(Span<byte> buffer)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            int read;
            try
            {
                read = Socket.Receive(buffer[received..], SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                return false;
            }
            if (read == 0)
            {
                if (received == 0) return false;
                throw new InvalidDataException("the kernel closed the connection inside a frame");
            }
            received += read;
        }
        return true;
    }

    /// <summary>Handshakes; asserts the kernel accepted.</summary>
    public HelloReply Handshake()
    {
        SendHello();
        var frame = Receive() ?? throw new InvalidOperationException("the kernel closed the connection during the handshake");
        Assert.Equal(FrameKind.HelloReply, frame.Header.Kind);
        var reply = frame.Read<HelloReply>();
        Assert.Equal(NtStatus.STATUS_SUCCESS.Value, reply.Status);
        return reply;
    }

    public uint NextSequence() => ++_sequence;

    /// <summary>Sends a call and waits for its Return.</summary>
    public RawFrame Call<T>(ushort number, in T request, ReadOnlySpan<byte> data = default) where T : unmanaged
    {
        var sequence = NextSequence();
        Send(Frame(FrameKind.Call, number, sequence, Environment.CurrentManagedThreadId, in request, data));
        var frame = Receive() ?? throw new InvalidOperationException($"the kernel closed the connection instead of answering call {number}");
        Assert.Equal(FrameKind.Return, frame.Header.Kind);
        Assert.Equal(sequence, frame.Header.Sequence);
        return frame;
    }

    /// <summary>KbQueryKernelState over this connection: the status the kernel answered.</summary>
    public NtStatus QueryState()
    {
        var frame = Call((ushort)Syscall.KbQueryKernelState, new KbQueryKernelStateRequest(0));
        return (NtStatus)frame.Header.Value;
    }

    /// <summary>
    /// True if the kernel closes the connection within <paramref name="timeout"/> (end of stream or
    /// reset); frames that arrive first are skipped. False if it is still open when time runs out.
    /// </summary>
    public bool WaitForClose(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var buffer = new byte[4096];
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            Socket.ReceiveTimeout = Math.Max(1, (int)left.TotalMilliseconds);
            try
            {
                if (Socket.Receive(buffer, SocketFlags.None) == 0) return true;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                return true;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return false;
            }
        }
    }

    public void Dispose() => Socket.Dispose();
}
