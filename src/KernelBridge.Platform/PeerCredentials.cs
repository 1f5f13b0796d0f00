using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>Who is on the other end of a Unix socket, from SO_PEERCRED: never from anything the peer says.</summary>
public readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> raw = stackalloc byte[Marshal.SizeOf<Libc.UCred>()];
        var length = socket.GetRawSocketOption(Libc.SOL_SOCKET, Libc.SO_PEERCRED, raw);
        if (length < raw.Length) throw new SocketException((int)SocketError.ProtocolNotSupported);
        var cred = MemoryMarshal.Read<Libc.UCred>(raw);
        return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid);
    }
}
