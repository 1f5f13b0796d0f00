using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace KernelBridge.Abi.Protocol;

/// <summary>A frame or request that breaks the protocol: the sender is disconnected.</summary>
public sealed class ProtocolViolationException(string message) : Exception(message);

/// <summary>
/// Reads the variable data behind a request or reply, checking every length against what is
/// really there. Any mismatch is a <see cref="ProtocolViolationException"/>.
/// </summary>
public ref struct WireReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;

    public readonly int Remaining => _rest.Length;

    public ReadOnlySpan<byte> Take(uint length, string what)
    {
        if (length > (uint)_rest.Length)
            throw new ProtocolViolationException($"{what}: {length} bytes announced, {_rest.Length} present");
        var taken = _rest[..(int)length];
        _rest = _rest[(int)length..];
        return taken;
    }

    public T Read<T>(string what) where T : unmanaged
    {
        var bytes = Take((uint)Unsafe.SizeOf<T>(), what);
        return MemoryMarshal.Read<T>(bytes);
    }

    /// <summary>A UTF-16 string of <paramref name="byteLength"/> bytes (even, at most 0xFFFE).</summary>
    public string TakeString(uint byteLength, string what)
    {
        if ((byteLength & 1) != 0 || byteLength > WireProtocol.MaxNameBytes)
            throw new ProtocolViolationException($"{what}: bad string length {byteLength}");
        return Encoding.Unicode.GetString(Take(byteLength, what));
    }

    public readonly void EnsureEnd(string what)
    {
        if (!_rest.IsEmpty) throw new ProtocolViolationException($"{what}: {_rest.Length} unexpected trailing bytes");
    }
}

/// <summary>Helpers for laying out variable data.</summary>
public static class WireData
{
    public static uint StringBytes(string? s) => s is null ? 0u : (uint)(s.Length * 2);

    public static int WriteString(Span<byte> destination, string s) => Encoding.Unicode.GetBytes(s, destination);

    public static int Write<T>(Span<byte> destination, in T value) where T : unmanaged
    {
        MemoryMarshal.Write(destination, in value);
        return Unsafe.SizeOf<T>();
    }
}
