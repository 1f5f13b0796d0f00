using System.Buffers.Binary;
using KernelBridge.Abi.Rings;

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

    /// <summary>
    /// Writes records 0..count-1 of the stream, reserving and filling each in place, ringing the
    /// doorbell every 16 records and whenever the ring is full (then waiting up to
    /// <paramref name="patience"/> for space). Null when all went, else what stopped it.
    /// </summary>
    public static string? Produce(RingWriter writer, ulong seed, long count, TimeSpan patience, out ulong checksum)
    {
        var maxPayload = writer.Geometry.MaxPayloadLength;
        checksum = 0;
        for (long i = 0; i < count; i++)
        {
            var length = Length(seed, i, maxPayload);
            var status = writer.TryReserve(Type(i), length, out var reservation);
            while (status == RingStatus.Full)
            {
                writer.Notify();
                status = writer.WaitForSpace(length, patience);
                if (status == RingStatus.Ok) status = writer.TryReserve(Type(i), length, out reservation);
            }
            if (status != RingStatus.Ok) return $"{status} at record {i}";
            Fill(seed, i, reservation.Payload);
            checksum = Checksum(checksum, Type(i), reservation.Payload);
            reservation.Commit();
            if ((i & 15) == 15) writer.Notify();
        }
        writer.Notify();
        return null;
    }

    /// <summary>
    /// Reads records 0..count-1 of the stream, checking every byte, releasing every 32 records and
    /// before each wait (of at most <paramref name="patience"/>). Null when all came intact, else what went wrong.
    /// </summary>
    public static string? Consume(RingReader reader, ulong seed, long count, TimeSpan patience, out ulong checksum)
    {
        var maxPayload = reader.Geometry.MaxPayloadLength;
        checksum = 0;
        for (long i = 0; i < count;)
        {
            var status = reader.TryRead(out var record);
            if (status == RingStatus.Ok)
            {
                if (!Matches(seed, i, maxPayload, record.Type, record.Payload)) return $"record {i} is not what was sent";
                checksum = Checksum(checksum, record.Type, record.Payload);
                if ((++i & 31) == 0) reader.Release();
                continue;
            }
            reader.Release();
            if (status is RingStatus.Empty or RingStatus.Pending) status = reader.WaitForData(patience);
            if (status != RingStatus.Ok) return $"{status} after {i} records";
        }
        reader.Release();
        return null;
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
