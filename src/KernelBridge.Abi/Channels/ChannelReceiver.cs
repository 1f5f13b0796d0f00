using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// One side's receiving half of a channel: records from its incoming ring, read in runs without a
/// system call, released in batches (a quarter of the ring at a time, and whenever it runs dry or
/// waits), and waited for on the futex doorbell once a short spin finds nothing. A record's span
/// points into shared memory the sender can still change: copy it once, then validate the copy.
/// One thread at a time. Nothing here allocates; nothing the sender does makes it throw or hang.
/// </summary>
public sealed unsafe class ChannelReceiver
{
    private readonly RingReader _reader;
    private readonly ChannelCounters* _counters;
    // Read but not released yet, roughly (padding is not counted): a producer waits for these.
    private int _unreleased;
    private readonly int _releaseEvery;
    private bool _broken;

    internal ChannelReceiver(RingReader reader, ChannelCounters* counters, ChannelDirection direction)
    {
        _reader = reader;
        _counters = counters;
        _releaseEvery = reader.Geometry.Capacity / 4;
        MaxRecordLength = reader.Geometry.MaxPayloadLength;
        Direction = direction;
    }

    public ChannelDirection Direction { get; }

    /// <summary>The longest record this direction carries (what a copying receive's buffer must hold).</summary>
    public int MaxRecordLength { get; }

    /// <summary>How long a wait spins before it sleeps on the data doorbell.</summary>
    public TimeSpan SpinTime
    {
        get => _reader.SpinTime;
        set => _reader.SpinTime = value;
    }

    /// <summary>This direction's traffic as the sender published it, drops included (informational: the sender may lie).</summary>
    public ChannelStatistics Statistics => ChannelStatistics.Read(_counters);

    /// <summary>The word a thread serving many channels sleeps on after <see cref="PrepareToSleep"/>.</summary>
    public uint* DataSignal => _reader.DataSignal;

    /// <summary>
    /// The next record, without waiting, as a span over shared memory valid until the next call on
    /// this receiver. Ok; Empty (nothing sent); Pending (the next record is reserved, not committed
    /// yet: its sender is writing it, or died); Corrupt (sticky: the sender broke the protocol).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RingStatus TryReceive(out ReadOnlySpan<byte> record)
    {
        record = default;
        if (_broken) return RingStatus.Corrupt;
        if (_unreleased >= _releaseEvery) Release();
        var status = _reader.TryRead(out var found);
        if (status != RingStatus.Ok)
        {
            // Dry (or stuck): everything read goes back now, so a sender waiting for space gets it.
            Release();
            return status;
        }
        if (found.Type != ChannelLayout.DataRecordType)
        {
            _broken = true;
            return RingStatus.Corrupt;
        }
        _unreleased += RingLayout.SlotLength(found.Payload.Length);
        record = found.Payload;
        return RingStatus.Ok;
    }

    /// <summary>
    /// The next record, waiting at most <paramref name="timeout"/> (spin, then sleep on the doorbell).
    /// Ok; TimedOut (nothing came); Stalled (a record stayed reserved and uncommitted for the whole
    /// timeout: its sender stalled or died; see <see cref="TrySkipAbandoned"/>); Cancelled; Corrupt.
    /// </summary>
    public RingStatus Receive(out ReadOnlySpan<byte> record, TimeSpan timeout)
    {
        var status = TryReceive(out record);
        if (status is not (RingStatus.Empty or RingStatus.Pending)) return status;
        var deadline = ChannelDeadline.After(timeout);
        while (true)
        {
            // TryReceive released everything before saying Empty or Pending: the sender has all the room there is.
            status = _reader.WaitForData(deadline.Remaining);
            if (status != RingStatus.Ok) return status;
            status = TryReceive(out record);
            if (status is not (RingStatus.Empty or RingStatus.Pending)) return status;
            // Only padding was there. A sender that sends nothing but padding must not keep us past the deadline.
            if (deadline.Expired) return status == RingStatus.Empty ? RingStatus.TimedOut : RingStatus.Stalled;
        }
    }

    /// <summary>
    /// <see cref="TryReceive(out ReadOnlySpan{byte})"/>, copying the record into
    /// <paramref name="destination"/>, which must hold <see cref="MaxRecordLength"/> bytes.
    /// </summary>
    public RingStatus TryReceive(Span<byte> destination, out int length)
    {
        CheckDestination(destination);
        var status = TryReceive(out ReadOnlySpan<byte> record);
        return CopyOut(status, record, destination, out length);
    }

    /// <summary>
    /// <see cref="Receive(out ReadOnlySpan{byte}, TimeSpan)"/>, copying the record into
    /// <paramref name="destination"/>, which must hold <see cref="MaxRecordLength"/> bytes.
    /// </summary>
    public RingStatus Receive(Span<byte> destination, out int length, TimeSpan timeout)
    {
        // A record already there is copied without the waiting path's frame (and its locals) around it.
        var status = TryReceive(destination, out length);
        return status is RingStatus.Empty or RingStatus.Pending ? WaitAndCopy(destination, out length, timeout) : status;
    }

    /// <summary>
    /// Gives everything read so far back to the sender now (receives do it themselves in batches;
    /// call this before pausing with records read). Ends the validity of the last record's span.
    /// </summary>
    public void Release()
    {
        _unreleased = 0;
        _reader.Release();
    }

    /// <summary>
    /// The first half of a sleep for a thread that serves many channels: releases, raises the
    /// sleeping flag, looks again. Empty or Pending: sleep on <see cref="DataSignal"/> while it holds
    /// <paramref name="signal"/>, then <see cref="FinishSleep"/>. Anything else: do not sleep.
    /// </summary>
    public RingStatus PrepareToSleep(out uint signal)
    {
        Release();
        if (_broken)
        {
            signal = 0;
            return RingStatus.Corrupt;
        }
        return _reader.PrepareToSleep(out signal);
    }

    /// <summary>Lowers the sleeping flag after a sleep begun with <see cref="PrepareToSleep"/>.</summary>
    public void FinishSleep() => _reader.FinishSleep();

    /// <summary>
    /// Skips the record a dead sender reserved and never committed (only once the sender is known to
    /// be dead: a live one would later commit into space given back). Ok if skipped; Stalled if it
    /// died before writing even the reservation's length (give the channel up); Empty; Corrupt.
    /// </summary>
    public RingStatus TrySkipAbandoned() => _broken ? RingStatus.Corrupt : _reader.TrySkipAbandoned();

    /// <summary>Ends a current and every later wait with <see cref="RingStatus.Cancelled"/> (the sender is known to be gone).</summary>
    public void Cancel() => _reader.Cancel();

    // The check inlines; the throw, with its message, stays out of the receive path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckDestination(Span<byte> destination)
    {
        if (destination.Length < MaxRecordLength) ThrowShortDestination(destination);
    }

    [DoesNotReturn]
    private void ThrowShortDestination(Span<byte> destination) =>
        throw new ArgumentException($"the buffer has {destination.Length} bytes; this direction's records may be {MaxRecordLength} long", nameof(destination));

    private RingStatus WaitAndCopy(Span<byte> destination, out int length, TimeSpan timeout) =>
        CopyOut(Receive(out ReadOnlySpan<byte> record, timeout), record, destination, out length);

    private static RingStatus CopyOut(RingStatus status, ReadOnlySpan<byte> record, Span<byte> destination, out int length)
    {
        length = 0;
        if (status != RingStatus.Ok) return status;
        record.CopyTo(destination);
        length = record.Length;
        return status;
    }
}
