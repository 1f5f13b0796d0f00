using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Turns a connection away with a reason its client can show: the client's Hello (if it comes
/// soon) is answered by a HelloReply carrying <c>status</c>, then the kernel hangs up. Nothing is
/// run down: the peer never became a process of this kernel.
/// </summary>
internal static class ConnectionRefusal
{
    /// <summary>How long a refused peer has to say hello; it holds a descriptor until then.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private static readonly int HelloFrameLength = FrameHeader.Size + Unsafe.SizeOf<HelloRequest>();

    /// <summary>Answers and closes <paramref name="client"/> (which it owns from now on); never throws.</summary>
    public static async Task RefuseAsync(Socket client, NtStatus status)
    {
        try
        {
            var peer = PeerCredentials.Of(client);
            var hello = new byte[HelloFrameLength];
            using (var patience = new CancellationTokenSource(Patience))
            {
                var received = 0;
                while (received < hello.Length)
                {
                    var read = await client.ReceiveAsync(hello.AsMemory(received), SocketFlags.None, patience.Token).ConfigureAwait(false);
                    if (read == 0) return;
                    received += read;
                }
            }
            var reply = new HelloReply(WireProtocol.Magic, WireProtocol.Version, status, Environment.ProcessId, peer.ProcessId, peer.UserId);
            var frame = new byte[FrameHeader.Size + Unsafe.SizeOf<HelloReply>()];
            var header = new FrameHeader((uint)frame.Length, FrameKind.HelloReply, 0, 0, status);
            MemoryMarshal.Write(frame, in header);
            MemoryMarshal.Write(frame.AsSpan(FrameHeader.Size), in reply);
            await client.SendAsync(frame, SocketFlags.None).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (OperationCanceledException)
        {
            // It never said hello: it hears the hang-up alone.
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }
}
