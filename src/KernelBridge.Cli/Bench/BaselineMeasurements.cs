using System.Net.Sockets;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// What the real machine does, measured in the same run as KernelBridge: the cheapest system call,
/// a trivial ioctl, a Unix-socket round trip between two processes (wineserver's shape), the same
/// round trip through shared memory (polling, and sleeping on futexes) and a memcpy.
/// </summary>
internal static class BaselineMeasurements
{
    /// <summary>The message size of the socket ping-pong, the same as the IOCTL's.</summary>
    public const int PingPongBytes = 64;

    public const int CopyBytes = 1 << 20;

    /// <summary>How long the bench waits for a shared-memory peer's answer before it gives up on the measurement.</summary>
    public static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(10);

    /// <summary>getppid(2) from C#: the floor of any system call (a LibraryImport call, no errno).</summary>
    public static BenchResult GetParentProcessId(BenchContext context) =>
        LatencySampler.Measure(context.Settings, static () => Libc.ParentProcessId());

    /// <summary>ioctl(FIONREAD) on an empty pipe: a real ioctl that looks a handle up, checks the request and writes an int back.</summary>
    public static BenchResult PipeIoctl(BenchContext context)
    {
        var (read, write) = Libc.OpenPipe();
        try
        {
            if (Libc.TrivialIoctl(read) != 0) throw new BenchFailedException("ioctl(FIONREAD) on a pipe failed");
            return LatencySampler.Measure(context.Settings, () => Libc.TrivialIoctl(read));
        }
        finally
        {
            Libc.CloseDescriptor(read);
            Libc.CloseDescriptor(write);
        }
    }

    /// <summary>
    /// A 64-byte message to another process over a Unix stream socket and the same 64 bytes back:
    /// what a system call over a socket costs at least (both sides block, as the socket gate's do).
    /// </summary>
    public static BenchResult SocketPingPong(BenchContext context)
    {
        var path = Path.Combine(Path.GetTempPath(), BenchContext.UniqueName("socket") + ".sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen(1);
            using var peer = context.StartPeer("socket", path);
            using var connection = listener.Accept();
            var message = new byte[PingPongBytes];
            var reply = new byte[PingPongBytes];
            return LatencySampler.Measure(context.Settings, () =>
            {
                connection.Send(message);
                var got = 0;
                while (got < reply.Length)
                {
                    var n = connection.Receive(reply.AsSpan(got));
                    if (n == 0) throw new BenchFailedException("the socket peer hung up");
                    got += n;
                }
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A 64-byte message to another process through shared memory and back, both sides spinning on
    /// the other's word: the floor of any shared-memory gate, a cache line's trip each way.
    /// </summary>
    public static BenchResult SharedMemoryPollingPingPong(BenchContext context) => SharedMemoryPingPong(context, PingPongWay.Polling);

    /// <summary>
    /// The same, but each side sleeps on a futex word and the other wakes it (FUTEX_WAKE after every
    /// write): what a round trip costs when nothing spins, two wake-ups of a sleeping thread.
    /// </summary>
    public static BenchResult FutexPingPong(BenchContext context) => SharedMemoryPingPong(context, PingPongWay.Futex);

    private static BenchResult SharedMemoryPingPong(BenchContext context, PingPongWay way)
    {
        using var area = SharedPingPong.Create();
        using var peer = context.StartPeer(BenchPeerCommand.SharedMemoryMode, way.ToString().ToLowerInvariant(), area.Path);
        var message = new byte[PingPongBytes];
        var reply = new byte[PingPongBytes];
        return LatencySampler.Measure(context.Settings, () =>
        {
            if (!area.RoundTrip(message, reply, way, PeerTimeout))
                throw new BenchFailedException($"the shared-memory peer (pid {peer.Id}) did not answer within {PeerTimeout.TotalSeconds:0} s");
        });
    }

    /// <summary>Copying 1 MiB between two buffers already in cache (Span.CopyTo, which is .NET's memmove).</summary>
    public static BenchResult CopyOneMebibyte(BenchContext context)
    {
        var source = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        var destination = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        Random.Shared.NextBytes(source);
        return LatencySampler.Measure(context.Settings, () => source.AsSpan().CopyTo(destination));
    }
}
