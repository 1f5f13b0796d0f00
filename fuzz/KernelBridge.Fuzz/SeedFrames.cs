using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Fuzz;

/// <summary>Builds frames as a client writes them (header, fixed part, data).</summary>
public static class SeedFrames
{
    /// <summary>The calling thread id every seed uses (any positive id names a thread of the client).</summary>
    public const int ThreadId = 1;

    public static byte[] Frame<T>(FrameKind kind, ushort code, uint sequence, int value, in T fixedPart, ReadOnlySpan<byte> data = default)
        where T : unmanaged
    {
        var header = new FrameHeader((uint)FrameLayout.Length<T>(data, default), kind, code, sequence, value);
        var frame = new byte[header.Length];
        FrameLayout.Write(frame, in header, in fixedPart, data, default);
        return frame;
    }

    /// <summary>A call of service <paramref name="number"/>.</summary>
    public static byte[] Call<T>(Syscall number, uint sequence, in T request, ReadOnlySpan<byte> data = default) where T : unmanaged =>
        Frame(FrameKind.Call, (ushort)number, sequence, ThreadId, in request, data);

    /// <summary>A call whose fixed part is all zeros, of the service's own size: the request every service must refuse or serve.</summary>
    public static byte[] ZeroCall(Syscall number)
    {
        var size = SyscallTable.RequestSize((ushort)number);
        var frame = new byte[FrameHeader.Size + size];
        MemoryMarshal.Write(frame, new FrameHeader((uint)frame.Length, FrameKind.Call, (ushort)number, 1, ThreadId));
        return frame;
    }

    public static byte[] Name(string name) => Encoding.Unicode.GetBytes(name);

}
