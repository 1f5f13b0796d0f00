using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Client.Gate;

/// <summary>The first exchange on a new socket: Hello, HelloReply, and what each way it can go wrong means.</summary>
internal static class GateHandshake
{
    /// <summary>The longest HelloReply read (a later version may add fields; they are ignored).</summary>
    private const int MaxReplyLength = FrameHeader.Size + 256;

    /// <summary>
    /// The kernel's answer, and the syscall area's descriptor if it granted the shared-memory gate;
    /// throws <see cref="KernelUnavailableException"/> or <see cref="ProtocolMismatchException"/> if there is none to use.
    /// </summary>
    public static (HelloReply Reply, SafeFileHandle? Area) Exchange(Socket socket, string instance, uint version, GateFeatures features,
        Memory.ViewSpace? views = null)
    {
        using (var sender = new FrameSender(socket))
        {
            var hello = new HelloRequest(WireProtocol.Magic, version, features, views?.BaseAddress ?? 0, views?.Length ?? 0);
            if (!sender.Send(FrameKind.Hello, 0, 0, 0, in hello))
                throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection before the handshake");
        }
        Span<byte> frame = stackalloc byte[MaxReplyLength];
        var (length, area) = ReceiveReply(socket, instance, frame);
        try
        {
            var reply = Check(frame[..length], instance, version);
            if ((reply.Features & GateFeatures.SharedMemory) != 0 && area is null)
                throw new KernelUnavailableException($"the kernel of instance '{instance}' granted a syscall area but sent no descriptor");
            if ((reply.Features & GateFeatures.SharedMemory) == 0)
            {
                area?.Dispose();
                area = null;
            }
            return (reply, area);
        }
        catch
        {
            area?.Dispose();
            throw;
        }
    }

    /// <summary>Reads exactly one frame (the reply) and the descriptor that came with its first byte, if any.</summary>
    private static (int Length, SafeFileHandle? Area) ReceiveReply(Socket socket, string instance, Span<byte> frame)
    {
        SafeFileHandle? area = null;
        try
        {
            var have = 0;
            var wanted = FrameHeader.Size;
            while (have < wanted)
            {
                int read;
                if (have == 0)
                {
                    Span<SafeFileHandle?> descriptors = [null];
                    read = Libc.ReceiveWithDescriptors(socket.SafeHandle, frame[..FrameHeader.Size], descriptors, out var count, out var errno);
                    if (read < 0) throw new KernelUnavailableException($"the kernel of instance '{instance}' failed the handshake: errno {errno}");
                    if (count > 0) area = descriptors[0];
                }
                else
                {
                    read = socket.Receive(frame[have..wanted], SocketFlags.None);
                }
                if (read == 0) throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection during the handshake");
                have += read;
                if (have == FrameHeader.Size)
                {
                    var length = MemoryMarshal.Read<FrameHeader>(frame).Length;
                    if (length < FrameHeader.Size + HelloReply.StableLength || length > frame.Length)
                        throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with a frame of {length} bytes");
                    wanted = (int)length;
                }
            }
            return (wanted, area);
        }
        catch (SocketException e)
        {
            area?.Dispose();
            throw new KernelUnavailableException($"the kernel of instance '{instance}' failed the handshake: {e.Message}");
        }
        catch
        {
            area?.Dispose();
            throw;
        }
    }

    private static HelloReply Check(ReadOnlySpan<byte> span, string instance, uint version)
    {
        var header = MemoryMarshal.Read<FrameHeader>(span);
        if (header.Kind != FrameKind.HelloReply)
            throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with a {header.Kind} frame");
        // An older kernel's reply is shorter: the fields it lacks read as zero (no features).
        Span<byte> full = stackalloc byte[Unsafe.SizeOf<HelloReply>()];
        full.Clear();
        var body = span[FrameHeader.Size..];
        body[..Math.Min(body.Length, full.Length)].CopyTo(full);
        var hello = MemoryMarshal.Read<HelloReply>(full);
        if (hello.Magic != WireProtocol.Magic)
            throw new KernelUnavailableException($"whatever listens for instance '{instance}' is not a KernelBridge kernel");
        if (hello.ProtocolVersion != version || hello.Status == NtStatus.STATUS_REVISION_MISMATCH.Value)
            throw new ProtocolMismatchException(version, hello.ProtocolVersion, hello.KernelProcessId);
        if (!((NtStatus)hello.Status).IsSuccess)
            throw new KernelUnavailableException($"the kernel refused the connection: {(NtStatus)hello.Status}");
        return hello;
    }
}
