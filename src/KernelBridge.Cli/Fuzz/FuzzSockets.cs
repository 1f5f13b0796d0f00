using System.Net.Sockets;

namespace KernelBridge.Cli.Fuzz;

/// <summary>How every fuzz worker opens a connection to the kernel, and counts the ones it could not open.</summary>
internal static class FuzzSockets
{
    /// <summary>A connected socket with <paramref name="patience"/> for sends and reads; null (counted, after a short pause) if the kernel did not accept.</summary>
    public static Socket? Connect(string socketPath, FuzzCounters counters, TimeSpan patience, CancellationToken stop)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException)
        {
            socket.Dispose();
            Interlocked.Increment(ref counters.ConnectFailures);
            stop.WaitHandle.WaitOne(50);
            return null;
        }
        Interlocked.Increment(ref counters.Connections);
        socket.SendTimeout = socket.ReceiveTimeout = (int)patience.TotalMilliseconds;
        return socket;
    }
}
