using System.Net.Sockets;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// One fuzz worker on raw sockets: connection after connection, a Hello (now and then a wrong one),
/// then bursts of frames from the <see cref="FrameForge"/>; it leaves each connection abruptly or
/// by hanging up and reading to the end, and notes when the kernel hung up first.
/// </summary>
internal sealed class FrameFuzzWorker(string socketPath, int seed, FuzzCounters counters)
{
    private static readonly TimeSpan ReadPatience = TimeSpan.FromSeconds(2);

    private readonly FrameForge _forge = new(seed);
    private readonly Random _random = new(seed ^ 0x5EED);
    private readonly byte[] _sink = new byte[64 * 1024];

    public void Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var socket = FuzzSockets.Connect(socketPath, counters, ReadPatience, stop);
            if (socket is null) continue;
            if (!Session(socket, stop)) Interlocked.Increment(ref counters.KernelHangUps);
        }
    }

    /// <summary>False if the kernel hung up first.</summary>
    private bool Session(Socket socket, CancellationToken stop)
    {
        if (!Send(socket, _forge.Hello(GateFeatures.None, out _))) return false;
        var bursts = 1 + _random.Next(6);
        for (var i = 0; i < bursts && !stop.IsCancellationRequested; i++)
        {
            var burst = _forge.Burst(out var frames);
            if (!Send(socket, burst)) return false;
            Interlocked.Add(ref counters.Executions, frames);
            if (!Discard(socket)) return false;
        }
        if (_random.Next(2) == 0) return true; // gone without a word, calls in flight
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            // Read until the kernel closes (after the process's rundown) or patience runs out.
            while (socket.Receive(_sink) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
        return true;
    }

    private static bool Send(Socket socket, ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty) bytes = bytes[socket.Send(bytes)..];
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads whatever answers are already there; false if the kernel has closed the connection.</summary>
    private bool Discard(Socket socket)
    {
        try
        {
            while (socket.Available > 0)
                if (socket.Receive(_sink) == 0) return false;
            if (socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0) return false;
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
