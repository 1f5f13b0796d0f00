using System.Net.Sockets;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// What the real machine does, measured in the same run as KernelBridge: the cheapest system call,
/// a trivial ioctl, a Unix-socket round trip between two processes (wineserver's shape) and a memcpy.
/// </summary>
internal static class BaselineMeasurements
{
    /// <summary>The message size of the socket ping-pong, the same as the IOCTL's.</summary>
    public const int PingPongBytes = 64;

    public const int CopyBytes = 1 << 20;

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

    /// <summary>Copying 1 MiB between two buffers already in cache (Span.CopyTo, which is .NET's memmove).</summary>
    public static BenchResult CopyOneMebibyte(BenchContext context)
    {
        var source = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        var destination = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        Random.Shared.NextBytes(source);
        return LatencySampler.Measure(context.Settings, () => source.AsSpan().CopyTo(destination));
    }
}
