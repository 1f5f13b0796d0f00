using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;

namespace KernelBridge.Client.Gate;

/// <summary>The first exchange on a new socket: Hello, HelloReply, and what each way it can go wrong means.</summary>
internal static class GateHandshake
{
    /// <summary>The kernel's answer; throws <see cref="KernelUnavailableException"/> or <see cref="ProtocolMismatchException"/> if there is none to use.</summary>
    public static HelloReply Exchange(Socket socket, string instance, uint version)
    {
        using var sender = new FrameSender(socket);
        if (!sender.Send(FrameKind.Hello, 0, 0, 0, new HelloRequest(WireProtocol.Magic, version, 0)))
            throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection before the handshake");
        using var receiver = new FrameReceiver();
        ReadOnlyMemory<byte>? frame;
        try
        {
            frame = receiver.Receive(socket);
        }
        catch (SocketException e)
        {
            throw new KernelUnavailableException($"the kernel of instance '{instance}' failed the handshake: {e.Message}");
        }
        catch (ProtocolViolationException e)
        {
            throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with garbage: {e.Message}");
        }
        if (frame is null) throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection during the handshake");
        var span = frame.Value.Span;
        var header = MemoryMarshal.Read<FrameHeader>(span);
        if (header.Kind != FrameKind.HelloReply || span.Length < FrameHeader.Size + Unsafe.SizeOf<HelloReply>())
            throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with a {header.Kind} frame");
        var hello = MemoryMarshal.Read<HelloReply>(span[FrameHeader.Size..]);
        if (hello.Magic != WireProtocol.Magic)
            throw new KernelUnavailableException($"whatever listens for instance '{instance}' is not a KernelBridge kernel");
        if (hello.ProtocolVersion != version || hello.Status == NtStatus.STATUS_REVISION_MISMATCH.Value)
            throw new ProtocolMismatchException(version, hello.ProtocolVersion, hello.KernelProcessId);
        if (!((NtStatus)hello.Status).IsSuccess)
            throw new KernelUnavailableException($"the kernel refused the connection: {(NtStatus)hello.Status}");
        return hello;
    }
}
