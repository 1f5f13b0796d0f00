using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

/// <summary>
/// A frame laid out in memory — header, fixed part, then up to two data parts — as every sender
/// writes it: into a socket buffer, a ring record in place, or a queued copy.
/// </summary>
public static class FrameLayout
{
    /// <summary>The whole frame's length, header included.</summary>
    public static int Length<T>(ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2) where T : unmanaged =>
        FrameHeader.Size + Unsafe.SizeOf<T>() + data1.Length + data2.Length;

    /// <summary>Writes the frame at the start of <paramref name="destination"/> (at least <c>header.Length</c> bytes).</summary>
    public static void Write<T>(Span<byte> destination, in FrameHeader header, in T fixedPart, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2)
        where T : unmanaged
    {
        MemoryMarshal.Write(destination, in header);
        MemoryMarshal.Write(destination[FrameHeader.Size..], in fixedPart);
        var offset = FrameHeader.Size + Unsafe.SizeOf<T>();
        data1.CopyTo(destination[offset..]);
        data2.CopyTo(destination[(offset + data1.Length)..]);
    }
}
