using System.Buffers.Binary;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;

namespace KernelBridge.TestClient;

/// <summary>
/// The records of a test stream on a shared channel, the same in both processes: record <c>i</c>
/// of stream <c>seed</c> starts with <c>i</c> (8 bytes, little-endian, cut short in a shorter
/// record) and carries bytes derived from (seed, i) alone, with a length from 1 byte (or
/// <c>minLength</c>) to the direction's maximum, so a receiver in another process checks every byte,
/// and can tell which records a dropping sender left out.
/// </summary>
public static class ChannelTraffic
{
    public const int SequenceLength = 8;

    /// <summary>Half the records up to 256 bytes, a quarter up to 4 KiB, a quarter up to <paramref name="maxLength"/>: many wrap-arounds, padding, and large records.</summary>
    public static int Length(ulong seed, long index, int maxLength, int minLength = 1)
    {
        var r = Mix(seed, (ulong)index);
        var bound = (r & 3) switch
        {
            0 or 1 => Math.Min(maxLength, 256),
            2 => Math.Min(maxLength, 4096),
            _ => maxLength,
        };
        return minLength + (int)((r >> 8) % (ulong)(bound - minLength + 1));
    }

    public static void Fill(ulong seed, long index, Span<byte> record)
    {
        Span<byte> sequence = stackalloc byte[SequenceLength];
        BinaryPrimitives.WriteInt64LittleEndian(sequence, index);
        var head = Math.Min(SequenceLength, record.Length);
        sequence[..head].CopyTo(record);
        RingTraffic.Fill(seed, index, record[head..]);
    }

    /// <summary>The sequence number a record of at least 8 bytes starts with.</summary>
    public static long IndexOf(ReadOnlySpan<byte> record) =>
        record.Length < SequenceLength ? -1 : BinaryPrimitives.ReadInt64LittleEndian(record);

    /// <summary>Whether a received record is exactly record <paramref name="index"/> of the stream.</summary>
    public static bool Matches(ulong seed, long index, int maxLength, ReadOnlySpan<byte> record, int minLength = 1)
    {
        if (record.Length != Length(seed, index, maxLength, minLength)) return false;
        var expected = record.Length <= 1024 ? stackalloc byte[record.Length] : new byte[record.Length];
        Fill(seed, index, expected);
        return record.SequenceEqual(expected);
    }

    /// <summary>
    /// Sends records <paramref name="first"/>.. of the stream until <paramref name="count"/> went,
    /// alternating a copying send and a reservation filled in place, each waiting at most
    /// <paramref name="patience"/> (the Block policy). Null when all went, else what stopped it.
    /// </summary>
    public static string? Send(ChannelSender sender, ulong seed, long first, long count, TimeSpan patience, out ulong checksum)
    {
        var maxLength = sender.MaxRecordLength;
        var buffer = new byte[maxLength];
        checksum = 0;
        for (var i = first; i < first + count; i++)
        {
            var record = buffer.AsSpan(0, Length(seed, i, maxLength));
            RingStatus status;
            if ((i & 1) == 0)
            {
                Fill(seed, i, record);
                checksum = RingTraffic.Checksum(checksum, ChannelLayout.DataRecordType, record);
                status = sender.Send(record, patience);
            }
            else
            {
                status = sender.Reserve(record.Length, patience, out var reservation);
                if (status == RingStatus.Ok)
                {
                    Fill(seed, i, reservation.Payload);
                    // Before the commit: once committed, the receiver may consume and zero it.
                    checksum = RingTraffic.Checksum(checksum, ChannelLayout.DataRecordType, reservation.Payload);
                    reservation.Commit();
                }
            }
            if (status != RingStatus.Ok) return $"{status} at record {i}";
        }
        return null;
    }

    /// <summary>
    /// Receives <paramref name="count"/> records, expecting the stream's records from
    /// <paramref name="first"/> on in order, checking every byte; each wait at most
    /// <paramref name="patience"/>. Null when all came intact, else what went wrong.
    /// </summary>
    public static string? Receive(ChannelReceiver receiver, ulong seed, long first, long count, TimeSpan patience, out ulong checksum)
    {
        var maxLength = receiver.MaxRecordLength;
        checksum = 0;
        for (var i = first; i < first + count; i++)
        {
            var status = receiver.Receive(out var record, patience);
            if (status != RingStatus.Ok) return $"{status} after {i - first} records";
            if (!Matches(seed, i, maxLength, record)) return $"record {i} is not what was sent (length {record.Length})";
            checksum = RingTraffic.Checksum(checksum, ChannelLayout.DataRecordType, record);
        }
        return null;
    }

    /// <summary>
    /// Sends records 0..count-1 (at least 8 bytes each) on a Drop channel without waiting, counting
    /// those that did not fit. Null when done, else what stopped it.
    /// </summary>
    public static string? SendDropping(ChannelSender sender, ulong seed, long count, int minLength, out long sent, out long dropped)
    {
        var maxLength = sender.MaxRecordLength;
        var buffer = new byte[maxLength];
        sent = dropped = 0;
        for (long i = 0; i < count; i++)
        {
            var record = buffer.AsSpan(0, Length(seed, i, maxLength, minLength));
            Fill(seed, i, record);
            var status = sender.Send(record, TimeSpan.Zero);
            if (status == RingStatus.Ok) sent++;
            else if (status == RingStatus.Full) dropped++;
            else return $"{status} at record {i}";
        }
        return null;
    }

    // SplitMix64's finaliser over the pair: lengths that look random and differ per stream.
    private static ulong Mix(ulong a, ulong b)
    {
        var x = (a ^ (b * 0xD6E8_FEB8_6659_FD93)) * 0x9E37_79B9_7F4A_7C15;
        x ^= x >> 31;
        x *= 0xBF58_476D_1CE4_E5B9;
        return x ^ (x >> 29);
    }
}
