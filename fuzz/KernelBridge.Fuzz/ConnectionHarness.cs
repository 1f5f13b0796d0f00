using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Fuzz;

/// <summary>What one input did: the kernel's answers (headers only when asked for).</summary>
public sealed record HarnessRun(int ReplyFrames, IReadOnlyList<FrameHeader>? Replies);

/// <summary>
/// Runs one input through a fresh client connection of the in-process kernel, exactly as a client
/// process's bytes would arrive: the connection's own frame decoder cuts them into frames, checks
/// each header and length, and the generated service table decodes and dispatches each call to its
/// service with a real SyscallContext (the client's process and thread). The input is the stream
/// after the handshake; an input that starts with a Hello frame brings its own handshake. Then the
/// client hangs up, and the kernel runs its process down, as it does for every client.
/// A crash is a <see cref="KernelFaultException"/>: an exception past the kernel's checks, or a hang.
/// </summary>
public sealed class ConnectionHarness(InProcessKernel kernel)
{
    /// <summary>How long the kernel may take to serve an input and run its process down.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Inputs are cut to this: the frame decoder's limits are reached with lengths, not with bulk.</summary>
    public const int MaxInputLength = 256 * 1024;

    /// <summary>
    /// The Hello the harness sends for an input that does not bring its own: with a view space, so
    /// the view services go past their first check.
    /// </summary>
    public static byte[] Hello { get; } = SeedFrames.Frame(FrameKind.Hello, 0, 0, 0,
        new HelloRequest(WireProtocol.Magic, WireProtocol.Version, GateFeatures.None, ViewSpaceBase: 0x2000_0000_0000, ViewSpaceLength: 1UL << 30));

    public HarnessRun Run(ReadOnlySpan<byte> input, bool keepReplies = false)
    {
        if (input.Length > MaxInputLength) input = input[..MaxInputLength];
        var (client, connection) = kernel.Accept();
        var replies = new ReplyCounter(keepReplies);
        Task serving;
        using (client)
        {
            serving = connection.RunAsync(CancellationToken.None);
            client.SendTimeout = (int)Patience.TotalMilliseconds;
            client.ReceiveTimeout = (int)Patience.TotalMilliseconds;
            if (Send(client, BringsItsOwnHello(input) ? default : Hello) && Send(client, input))
                Shutdown(client);
            Drain(client, replies);
        }
        if (!serving.Wait(Patience)) throw new KernelFaultException($"the kernel did not finish the connection within {Patience.TotalSeconds} s") { IsHang = true };
        if (serving.Exception is { } escaped) throw new KernelFaultException("an exception escaped the client connection", escaped.InnerException ?? escaped);
        var failures = kernel.Failures.Drain();
        if (failures.Count > 0) throw new KernelFaultException($"{failures[0].Message} ({failures.Count} failure(s))", failures[0].Exception);
        return new HarnessRun(replies.Frames, replies.Headers);
    }

    private static bool BringsItsOwnHello(ReadOnlySpan<byte> input) =>
        input.Length >= 6 && MemoryMarshal.Read<ushort>(input[4..]) == (ushort)FrameKind.Hello;

    /// <summary>Sends everything; false once the kernel has hung up (it does on a protocol violation).</summary>
    private static bool Send(Socket client, ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty) bytes = bytes[client.Send(bytes)..];
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new KernelFaultException("the kernel stopped reading the client's frames", e) { IsHang = true };
        }
    }

    private static void Shutdown(Socket client)
    {
        try
        {
            client.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Reads the kernel's answers until it closes the connection (after the process's rundown).</summary>
    private static void Drain(Socket client, ReplyCounter replies)
    {
        Span<byte> buffer = stackalloc byte[16 * 1024];
        try
        {
            int read;
            while ((read = client.Receive(buffer)) > 0) replies.Add(buffer[..read]);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new KernelFaultException($"the kernel did not close the connection within {Patience.TotalSeconds} s of the client's hang-up", e) { IsHang = true };
        }
    }
}
