using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// A record as the reader found it: its type (read once) and its payload, still in shared memory.
/// The producer can change those bytes at any moment, so copy the payload once and validate the
/// copy; the span is valid until the reader's next <see cref="RingReader.Release"/>.
/// </summary>
public readonly ref struct RingRecord
{
    public int Type { get; }
    public ReadOnlySpan<byte> Payload { get; }

    internal RingRecord(int type, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Payload = payload;
    }

    /// <summary>Copies the payload out as one <typeparamref name="T"/>; false if it is not exactly that long.</summary>
    public bool TryRead<T>(out T value) where T : unmanaged
    {
        if (Payload.Length != System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
        {
            value = default;
            return false;
        }
        value = MemoryMarshal.Read<T>(Payload);
        return true;
    }
}
