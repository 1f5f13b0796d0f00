using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace KernelBridge.Abi.Protocol;

/// <summary>A frame or request that breaks the protocol: the sender is disconnected.</summary>
public sealed class ProtocolViolationException(string message) : Exception(message);

/// <summary>
/// Reads the variable data behind a request or reply, checking every length against its limit and
/// against what is really there. Any mismatch is a <see cref="ProtocolViolationException"/> naming
/// the message and the item. The generated ReadData methods are its main users.
/// </summary>
public ref struct WireReader(ReadOnlySpan<byte> data, string message = "")
{
    private ReadOnlySpan<byte> _rest = data;

    public readonly int Remaining => _rest.Length;

    /// <summary>The fixed part of a message at the start of <paramref name="payload"/>.</summary>
    public static T ReadMessage<T>(ReadOnlySpan<byte> payload, string message) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        if (payload.Length < size)
            throw new ProtocolViolationException($"{message}: {payload.Length} bytes, the request needs {size}");
        return MemoryMarshal.Read<T>(payload);
    }

    /// <summary>A message that declares no data must have none.</summary>
    public static void EnsureEmpty(ReadOnlySpan<byte> rest, string message)
    {
        if (!rest.IsEmpty) throw new ProtocolViolationException($"{message}: {rest.Length} unexpected trailing bytes");
    }

    public ReadOnlySpan<byte> TakeBytes(uint length, long max, string item)
    {
        if (length > max) throw new ProtocolViolationException($"{message}.{item}: {length} bytes announced, at most {max} allowed");
        return Take(length, item);
    }

    /// <summary>A UTF-16 string of <paramref name="byteLength"/> bytes (even, at most <paramref name="maxBytes"/>).</summary>
    public ReadOnlySpan<char> TakeChars(uint byteLength, long maxBytes, string item)
    {
        if ((byteLength & 1) != 0 || byteLength > maxBytes)
            throw new ProtocolViolationException($"{message}.{item}: bad string length {byteLength}");
        return MemoryMarshal.Cast<byte, char>(Take(byteLength, item));
    }

    public ReadOnlySpan<T> TakeArray<T>(uint count, long maxCount, string item) where T : unmanaged
    {
        if (count > maxCount) throw new ProtocolViolationException($"{message}.{item}: {count} elements announced, at most {maxCount} allowed");
        return MemoryMarshal.Cast<byte, T>(Take(count * (uint)Unsafe.SizeOf<T>(), item));
    }

    public ReadOnlySpan<byte> Take(uint length, string item)
    {
        if (length > (uint)_rest.Length)
            throw new ProtocolViolationException($"{message}.{item}: {length} bytes announced, {_rest.Length} present");
        var taken = _rest[..(int)length];
        _rest = _rest[(int)length..];
        return taken;
    }

    public T Read<T>(string item) where T : unmanaged => MemoryMarshal.Read<T>(Take((uint)Unsafe.SizeOf<T>(), item));

    /// <summary>A UTF-16 string of <paramref name="byteLength"/> bytes (even, at most 0xFFFE).</summary>
    public string TakeString(uint byteLength, string item) => new(TakeChars(byteLength, WireProtocol.MaxNameBytes, item));

    public readonly void EnsureEnd()
    {
        if (!_rest.IsEmpty) throw new ProtocolViolationException($"{message}: {_rest.Length} unexpected trailing bytes");
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

/// <summary>How the trace shows fields and data items.</summary>
public static class WireFormat
{
    private const int ListLimit = 8;

    public static string Hex(ulong value) => value < 10 ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"0x{value:X}";

    public static string Quote(ReadOnlySpan<char> text) => $"\"{text}\"";

    public static string QuoteUtf8(ReadOnlySpan<byte> text) => $"\"{Encoding.UTF8.GetString(text)}\"";

    public static string Size(ReadOnlySpan<byte> data) => $"{data.Length} bytes";

    public static string List<T>(ReadOnlySpan<T> items) where T : unmanaged
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < items.Length && i < ListLimit; i++) text.Append(i == 0 ? "" : ", ").Append(items[i].ToString());
        if (items.Length > ListLimit) text.Append(", … ").Append(items.Length - ListLimit).Append(" more");
        return text.Append(']').ToString();
    }
}
