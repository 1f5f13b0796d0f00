using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// An impostor kernel: a Unix listener of the test's own that answers every Hello with the
/// HelloReply the test chose, then waits (bounded) for the client to hang up. It serves on a
/// background thread until disposed.
/// </summary>
internal sealed class FakeKernel : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Thread _thread;
    private readonly string _path;
    private int _helloCount;

    public FakeKernel(string socketPath, HelloReply reply)
    {
        _path = socketPath;
        if (File.Exists(socketPath)) File.Delete(socketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(8);
        Reply = reply;
        _thread = new Thread(Serve) { IsBackground = true, Name = "fake kernel" };
        _thread.Start();
    }

    public HelloReply Reply { get; }

    /// <summary>How many Hello frames it received, and the last one.</summary>
    public int HelloCount => Volatile.Read(ref _helloCount);

    public HelloRequest LastHello { get; private set; }

    private void Serve()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (SocketException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            using (client)
            using (var receiver = new FrameReceiver())
            using (var sender = new FrameSender(client))
            {
                try
                {
                    client.ReceiveTimeout = 10_000;
                    if (receiver.Receive(client) is not { } frame) continue;
                    var header = MemoryMarshal.Read<FrameHeader>(frame.Span);
                    if (header.Kind == FrameKind.Hello && frame.Length >= FrameHeader.Size + Marshal.SizeOf<HelloRequest>())
                        LastHello = MemoryMarshal.Read<HelloRequest>(frame.Span[FrameHeader.Size..]);
                    Interlocked.Increment(ref _helloCount);
                    var reply = Reply;
                    sender.Send(FrameKind.HelloReply, 0, 0, reply.Status, in reply);
                    var buffer = new byte[256];
                    while (client.Receive(buffer) > 0)
                    {
                    }
                }
                catch (SocketException)
                {
                }
                catch (ProtocolViolationException)
                {
                }
            }
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _thread.Join(TimeSpan.FromSeconds(15));
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }

    public static HelloReply ReplyWith(uint version, NtStatus status, int kernelPid = 4242) =>
        new(WireProtocol.Magic, version, status.Value, kernelPid, Environment.ProcessId, 0);
}
