using System.Net.Sockets;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// Whether an instance's kernel is there, found without starting one: a socket file nothing listens
/// on is what a kernel that died leaves behind; and waiting (bounded) for a stopped kernel to be
/// gone, process and all, so that the next kernel of the instance can start at once.
/// </summary>
internal static class KernelPresence
{
    /// <summary>
    /// Connects to the instance's kernel if one runs, never starting one; null if none does, with
    /// <paramref name="staleSocket"/> telling whether a dead kernel left its socket. A kernel that is
    /// there but refuses (another protocol version, a full house) throws as <see cref="GateClient.Connect"/> does.
    /// </summary>
    public static GateClient? ConnectIfRunning(InstanceDirectory instance, out bool staleSocket)
    {
        staleSocket = false;
        if (!File.Exists(instance.SocketPath) && !WaitOutTakeover(instance)) return null;
        try
        {
            return GateClient.Connect(instance.Instance, autoStart: false);
        }
        catch (KernelUnavailableException) when (!File.Exists(instance.SocketPath) || IsStaleSocket(instance.SocketPath))
        {
            staleSocket = File.Exists(instance.SocketPath);
            return null;
        }
    }

    /// <summary>How long a takeover may leave the instance without a socket: the old kernel stopping, the new one starting.</summary>
    private static readonly TimeSpan TakeoverLimit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A kernel taking over (kbridge kernel --persistent) set the old kernel's socket aside: the
    /// instance is between two kernels, not without one. Waits (bounded) for the new kernel's socket;
    /// true if it appeared. The new kernel removes the set-aside socket once it listens.
    /// </summary>
    private static bool WaitOutTakeover(InstanceDirectory instance)
    {
        var deadline = DateTime.UtcNow + TakeoverLimit;
        while (File.Exists(KernelTakeover.DrainingPath(instance)) && DateTime.UtcNow < deadline)
        {
            if (File.Exists(instance.SocketPath)) return true;
            Thread.Sleep(20);
        }
        return File.Exists(instance.SocketPath);
    }

    /// <summary>True if <paramref name="socketPath"/> exists but nothing accepts connections on it.</summary>
    public static bool IsStaleSocket(string socketPath)
    {
        if (!File.Exists(socketPath)) return false;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return true;
        }
    }

    /// <summary>Waits until the socket is gone and process <paramref name="pid"/> has exited (its locks released); false on timeout.</summary>
    public static bool WaitUntilGone(string socketPath, int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (File.Exists(socketPath) || IsRunning(pid))
        {
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>True while <paramref name="pid"/> runs; an exited process awaiting its parent (a zombie) has let go of everything.</summary>
    private static bool IsRunning(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        // "pid (comm) S ...": the state follows the last ')', as comm may hold anything.
        var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
        return state.Length > 0 && state[0] is not ('Z' or 'X');
    }
}
