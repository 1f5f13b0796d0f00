using System.Buffers.Binary;

namespace KernelBridge.TestClient;

/// <summary>
/// The records of a test stream, the same on both sides of a ring: record <c>i</c> of stream
/// <c>seed</c> has a length and bytes derived from (seed, i) alone, so a consumer in another
/// process checks every byte it receives, and a checksum over the whole stream sums it up.
/// </summary>
public static class RingTraffic
{
    /// <summary>Mostly small records, one in eight anywhere up to <paramref name="maxPayload"/>: wrap-arounds and padding happen often.</summary>
    public static int Length(ulong seed, long index, int maxPayload)
    {
        var r = Mix(seed, (ulong)index);
        var bound = (r & 7) == 0 ? maxPayload : Math.Min(maxPayload, 64);
        return (int)((r >> 8) % (ulong)(bound + 1));
    }

    /// <summary>The record's type: its index, folded into the non-negative ints.</summary>
    public static int Type(long index) => (int)(index & 0x7FFF_FFFF);

    public static void Fill(ulong seed, long index, Span<byte> payload)
    {
        var state = Mix(seed ^ 0xA5A5_A5A5_A5A5_A5A5, (ulong)index) | 1;
        var i = 0;
        for (; i + 8 <= payload.Length; i += 8)
        {
            state = Next(state);
            BinaryPrimitives.WriteUInt64LittleEndian(payload[i..], state);
        }
        state = Next(state);
        for (; i < payload.Length; i++, state >>= 8) payload[i] = (byte)state;
    }

    /// <summary>Whether a received record is exactly record <paramref name="index"/> of the stream.</summary>
    public static bool Matches(ulong seed, long index, int maxPayload, int type, ReadOnlySpan<byte> payload)
    {
        if (type != Type(index) || payload.Length != Length(seed, index, maxPayload)) return false;
        Span<byte> expected = stackalloc byte[payload.Length <= 1024 ? payload.Length : 0];
        var buffer = payload.Length <= 1024 ? expected : new byte[payload.Length];
        Fill(seed, index, buffer);
        return payload.SequenceEqual(buffer);
    }

    /// <summary>Adds a record to a running checksum (order-sensitive).</summary>
    public static ulong Checksum(ulong sum, int type, ReadOnlySpan<byte> payload)
    {
        sum = Mix(sum, (ulong)(uint)type ^ ((ulong)payload.Length << 32));
        var i = 0;
        for (; i + 8 <= payload.Length; i += 8) sum = Mix(sum, BinaryPrimitives.ReadUInt64LittleEndian(payload[i..]));
        for (; i < payload.Length; i++) sum = Mix(sum, payload[i]);
        return sum;
    }

    private static ulong Next(ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    private static ulong Mix(ulong a, ulong b)
    {
        var x = (a ^ b) * 0x9E37_79B9_7F4A_7C15;
        x ^= x >> 31;
        x *= 0xBF58_476D_1CE4_E5B9;
        return x ^ (x >> 29);
    }
}
