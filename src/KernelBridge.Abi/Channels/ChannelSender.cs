using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// One side's sending half of a channel: records onto its outgoing ring, with the overflow policy
/// the creator chose for that direction. Every commit rings the doorbell, which costs a fence and
/// a load unless the receiver sleeps: no system call while it keeps up. One thread at a time,
/// unless the direction was created multi-producer. Nothing here allocates.
/// </summary>
public sealed unsafe class ChannelSender
{
    private readonly RingWriter _writer;
    private readonly ChannelCounters* _counters;
    private readonly bool _multiProducer;

    // Single producer: our own running totals (the shared ones are only published, like a tail).
    private long _records;
    private long _bytes;

    internal ChannelSender(RingWriter writer, ChannelCounters* counters, ChannelDirection direction, ChannelOverflowPolicy policy)
    {
        _writer = writer;
        _counters = counters;
        _multiProducer = writer.Geometry.MultiProducer;
        Direction = direction;
        Policy = policy;
        if (!_multiProducer)
        {
            // A re-attached sender carries on from the published totals (if they are sane at all).
            _records = Math.Max(0, Volatile.Read(ref counters->Records));
            _bytes = Math.Max(0, Volatile.Read(ref counters->Bytes));
        }
    }

    public ChannelDirection Direction { get; }

    public ChannelOverflowPolicy Policy { get; }

    /// <summary>The longest record this direction carries.</summary>
    public int MaxRecordLength => _writer.Geometry.MaxPayloadLength;

    /// <summary>How long a blocked send spins before it sleeps on the space doorbell.</summary>
    public TimeSpan SpinTime
    {
        get => _writer.SpinTime;
        set => _writer.SpinTime = value;
    }

    /// <summary>This direction's traffic as published in the header (ours, as far as it is honest).</summary>
    public ChannelStatistics Statistics => ChannelStatistics.Read(_counters);

    /// <summary>
    /// Sends one record (a copy of <paramref name="record"/>). Ok; <see cref="RingStatus.Full"/> when
    /// the policy is Drop and it did not fit (counted as dropped; <paramref name="timeout"/> is not
    /// used); <see cref="RingStatus.TimedOut"/> when the policy is Block and no room came within the
    /// timeout (not counted: the record is still the caller's); InvalidRecord (longer than
    /// <see cref="MaxRecordLength"/>), Cancelled or Corrupt.
    /// </summary>
    public RingStatus Send(ReadOnlySpan<byte> record, TimeSpan timeout)
    {
        // The common case straight on the ring; a full ring takes the policy's way through Reserve.
        var status = _writer.TryReserve(ChannelLayout.DataRecordType, record.Length, out var ring);
        if (status == RingStatus.Ok)
        {
            record.CopyTo(ring.Payload);
            ring.Commit();
            Committed(record.Length);
            return RingStatus.Ok;
        }
        return status == RingStatus.Full ? SendWhenFull(record, timeout) : status;
    }

    /// <summary>
    /// Reserves room for a record of <paramref name="length"/> bytes to fill in place (zero-copy),
    /// honouring the policy as <see cref="Send"/> does. Until it is committed (or discarded) the
    /// receiver sees the record as pending, and nothing after it: fill it promptly.
    /// </summary>
    public RingStatus Reserve(int length, TimeSpan timeout, out ChannelReservation reservation)
    {
        reservation = default;
        var status = _writer.TryReserve(ChannelLayout.DataRecordType, length, out var ring);
        if (status == RingStatus.Full)
            status = Policy == ChannelOverflowPolicy.Drop ? CountDrop() : WaitAndReserve(length, timeout, out ring);
        if (status != RingStatus.Ok) return status;
        reservation = new ChannelReservation(this, ring);
        return RingStatus.Ok;
    }

    /// <summary>Ends a current and every later blocked send with <see cref="RingStatus.Cancelled"/> (the receiver is known to be gone).</summary>
    public void Cancel() => _writer.Cancel();

    /// <summary>A reservation was committed: count it, then wake the receiver if it sleeps.</summary>
    internal void Committed(int length)
    {
        if (_multiProducer)
        {
            Interlocked.Increment(ref _counters->Records);
            Interlocked.Add(ref _counters->Bytes, length);
        }
        else
        {
            // Plain stores to a line only this sender writes: the receiver reads it only when asked.
            Volatile.Write(ref _counters->Records, ++_records);
            Volatile.Write(ref _counters->Bytes, _bytes += length);
        }
        _writer.Notify();
    }

    /// <summary>A reservation became padding: the receiver skips it, and must hear of it if it waits on it.</summary>
    internal void Discarded() => _writer.Notify();

    // Apart from Send, so that its frame (and the reservation's zeroed locals) costs only when the ring is full.
    private RingStatus SendWhenFull(ReadOnlySpan<byte> record, TimeSpan timeout)
    {
        var status = Reserve(record.Length, timeout, out var reservation);
        if (status != RingStatus.Ok) return status;
        record.CopyTo(reservation.Payload);
        reservation.Commit();
        return RingStatus.Ok;
    }

    private RingStatus CountDrop()
    {
        Interlocked.Increment(ref _counters->Dropped);
        return RingStatus.Full;
    }

    private RingStatus WaitAndReserve(int length, TimeSpan timeout, out RingReservation ring)
    {
        ring = default;
        var deadline = ChannelDeadline.After(timeout);
        while (true)
        {
            // Everything committed is announced before we sleep: a receiver asleep on it would never free the space we wait for.
            _writer.Notify();
            var status = _writer.WaitForSpace(length, deadline.Remaining);
            if (status != RingStatus.Ok) return status;
            status = _writer.TryReserve(ChannelLayout.DataRecordType, length, out ring);
            // Full again: a co-producer took the space first. Try again while time is left.
            if (status != RingStatus.Full) return status;
            if (deadline.Expired) return RingStatus.TimedOut;
        }
    }
}
