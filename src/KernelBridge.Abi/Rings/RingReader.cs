using System.Runtime.CompilerServices;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// The one consumer of a ring: <see cref="TryRead"/> records (many), then <see cref="Release"/>
/// them at once. Every index and length it reads from the region is read once and checked
/// (docs/rings.md, "Safety"): a peer that breaks the protocol gets <see cref="RingStatus.Corrupt"/>,
/// never an exception, an out-of-bounds access or an endless loop. One thread uses it at a time.
/// </summary>
public sealed unsafe class RingReader
{
    private readonly RingRegion _ring;
    private readonly IRingDoorbell? _doorbell;

    // Released: everything before it is zeroed and the producers' again. Our own copy: the shared
    // one is only published (a producer could scribble on it).
    private long _head;
    // Read but not yet released.
    private long _position;
    // A tail seen earlier and validated: records ending before it need no fresh look at the tail.
    private long _tailCache;
    private bool _broken;
    private volatile bool _cancelled;

    private RingReader(RingRegion ring, IRingDoorbell? doorbell, long head, long tail)
    {
        _ring = ring;
        _doorbell = doorbell;
        _head = head;
        _position = head;
        _tailCache = tail;
    }

    public RingGeometry Geometry => _ring.Geometry;

    /// <summary>How long <see cref="WaitForData"/> spins before it sleeps (it should exceed a wake-up, tens of µs on a VM).</summary>
    public TimeSpan SpinTime { get; set; } = TimeSpan.FromMicroseconds(20);

    /// <summary>The word a multiplexing waiter sleeps on (futex_waitv) after <see cref="PrepareToSleep"/>.</summary>
    public uint* DataSignal => &_ring.Header->DataSignal;

    /// <summary>Attaches to an initialised ring. The region must stay mapped while the reader is used.</summary>
    public static RingStatus TryAttach(byte* region, long regionLength, IRingDoorbell? doorbell, out RingReader? reader)
    {
        reader = null;
        var status = RingRegion.TryAttach(region, regionLength, out var ring, out var head, out var tail);
        if (status != RingStatus.Ok) return status;
        reader = new RingReader(ring, doorbell, head, tail);
        return RingStatus.Ok;
    }

    /// <summary>
    /// A cheap look, without consuming: false only when nothing at all is there (no record, and the
    /// tail where the reader is). A poller asks this before it takes the lock that lets it read; a
    /// true answer may still read as Empty, Pending or Corrupt.
    /// </summary>
    public bool MayHaveRecord => _broken || LengthAt(_position) != 0 || Volatile.Read(ref _ring.Header->Tail) != _position;

    /// <summary>
    /// The next committed record, skipping padding. <see cref="RingStatus.Empty"/> when nothing is
    /// reserved, <see cref="RingStatus.Pending"/> when the next record is reserved but not committed
    /// yet, <see cref="RingStatus.Corrupt"/> (sticky) when the producer broke the protocol.
    /// The record's payload stays valid until <see cref="Release"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RingStatus TryRead(out RingRecord record)
    {
        record = default;
        while (true)
        {
            if (_broken) return RingStatus.Corrupt;
            var position = _position;
            var header = _ring.RecordAt(position);
            var length = LengthAt(position);
            if (length <= 0) return length == 0 ? NothingCommitted(position) : RingStatus.Pending;

            var end = EndOf(position, length);
            if (end < 0) return Break();
            var type = header->Type;
            _position = end;
            if (type == RingLayout.PaddingType) continue;

            var payloadLength = length - RingLayout.RecordHeaderLength;
            if (type < 0 || payloadLength > _ring.MaxPayload || (_ring.FixedPayload != 0 && payloadLength != _ring.FixedPayload)) return Break();
            record = new RingRecord(type, new ReadOnlySpan<byte>(header + 1, payloadLength));
            return RingStatus.Ok;
        }
    }

    /// <summary>
    /// Gives every record read so far back to the producers: zeroes their bytes (so a slot not yet
    /// rewritten reads as "nothing here"), publishes the head, and wakes producers waiting for space.
    /// </summary>
    public void Release()
    {
        var position = _position;
        var head = _head;
        if (position == head) return;
        var start = (int)head & _ring.Mask;
        var length = (int)(position - head);
        var first = Math.Min(length, _ring.Capacity - start);
        new Span<byte>(_ring.Data + start, first).Clear();
        if (length > first) new Span<byte>(_ring.Data, length - first).Clear();
        _head = position;
        // Release and full fence in one: producers that see the head see the zeroes; and the head is
        // visible before we look at the sleeping flag (the producer sets it before it looks at the head).
        Interlocked.Exchange(ref _ring.Header->Head, position);
        if (Volatile.Read(ref _ring.Header->ProducersSleeping) == 0) return;
        if (Interlocked.Exchange(ref _ring.Header->ProducersSleeping, 0) == 0) return;
        Interlocked.Increment(ref _ring.Header->SpaceSignal);
        _doorbell?.Wake(&_ring.Header->SpaceSignal, int.MaxValue);
    }

    /// <summary>
    /// Waits until <see cref="TryRead"/> has something to say other than Empty or Pending: spins for
    /// <see cref="SpinTime"/>, then sleeps on the doorbell until a producer rings it. Returns Ok
    /// (try reading; padding alone may still read as Empty), <see cref="RingStatus.TimedOut"/> when
    /// nothing came, <see cref="RingStatus.Stalled"/> when a record stayed reserved but uncommitted
    /// for the whole timeout (its producer stalled or died), Cancelled, or Corrupt.
    /// </summary>
    public RingStatus WaitForData(TimeSpan timeout)
    {
        var clock = new RingWaitClock(SpinTime, timeout);
        while (true)
        {
            if (_broken) return RingStatus.Corrupt;
            if (LengthAt(_position) > 0) return RingStatus.Ok;
            if (_cancelled) return RingStatus.Cancelled;
            if (!clock.Spinning) break;
            Thread.SpinWait(1);
        }
        while (true)
        {
            var remaining = clock.RemainingMilliseconds;
            if (remaining == 0)
            {
                var last = Peek();
                return last switch
                {
                    RingStatus.Empty => RingStatus.TimedOut,
                    RingStatus.Pending => RingStatus.Stalled,
                    _ => last,
                };
            }
            var status = PrepareToSleep(out var signal);
            if (status != RingStatus.Empty && status != RingStatus.Pending)
            {
                FinishSleep();
                return status;
            }
            if (_cancelled)
            {
                FinishSleep();
                return RingStatus.Cancelled;
            }
            RingWaitClock.Sleep(_doorbell, &_ring.Header->DataSignal, signal, remaining);
            FinishSleep();
        }
    }

    /// <summary>
    /// The first half of a sleep, for a thread that waits on many rings at once: raises the
    /// sleeping flag, then looks again. Empty or Pending: sleep on <see cref="DataSignal"/> while
    /// it still holds <paramref name="signal"/>, then call <see cref="FinishSleep"/>. Anything
    /// else: do not sleep (Ok means a record is ready).
    /// </summary>
    public RingStatus PrepareToSleep(out uint signal)
    {
        // Full fence: the flag is visible before we look at the records (pairs with Notify's fence).
        Interlocked.Exchange(ref _ring.Header->ConsumerSleeping, 1);
        // Acquire, before looking: a producer bumps the signal only after its commit, so a bump we
        // see here comes with its record, and one we miss makes the futex wait return at once.
        signal = Volatile.Read(ref _ring.Header->DataSignal);
        return Peek();
    }

    /// <summary>Lowers the sleeping flag (producers stop paying for wake-ups).</summary>
    public void FinishSleep() => Volatile.Write(ref _ring.Header->ConsumerSleeping, 0);

    /// <summary>Makes a current and every later wait return <see cref="RingStatus.Cancelled"/> (the producer is known to be gone).</summary>
    public void Cancel()
    {
        _cancelled = true;
        Interlocked.Increment(ref _ring.Header->DataSignal);
        _doorbell?.Wake(&_ring.Header->DataSignal, int.MaxValue);
    }

    /// <summary>
    /// Skips a record that was reserved and never committed, once its producer is known to be dead
    /// (only then: a live producer would later commit into space given back). Ok if skipped;
    /// <see cref="RingStatus.Stalled"/> if the producer died before it even wrote the reservation's
    /// length (the rest of the ring cannot be trusted: give the ring up); Empty if nothing is there;
    /// Corrupt if the reservation's length is impossible.
    /// </summary>
    public RingStatus TrySkipAbandoned()
    {
        var status = Peek();
        if (status != RingStatus.Pending) return status;
        var position = _position;
        var length = -Volatile.Read(ref _ring.RecordAt(position)->Length);
        if (length <= 0) return RingStatus.Stalled;
        var end = EndOf(position, length);
        if (end < 0) return Break();
        _position = end;
        return RingStatus.Ok;
    }

    // What TryRead would say, without consuming: Ok (a committed record, possibly padding), Empty, Pending or Corrupt.
    private RingStatus Peek()
    {
        if (_broken) return RingStatus.Corrupt;
        var position = _position;
        var length = LengthAt(position);
        if (length > 0) return RingStatus.Ok;
        return length == 0 ? NothingCommitted(position) : RingStatus.Pending;
    }

    // The length word of the record at the position, read once with acquire (if committed, the
    // producer's payload and type stores are visible). A whole capacity read and not released yet
    // leaves the position on our own oldest record: nothing new can be there (0).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int LengthAt(long position) =>
        position - _head >= _ring.Capacity ? 0 : Volatile.Read(ref _ring.RecordAt(position)->Length);

    // No record header at the position: empty if the tail is here too, pending if a producer has
    // reserved past it (and not written the header yet), corrupt if the tail is impossible.
    private RingStatus NothingCommitted(long position)
    {
        var tail = Volatile.Read(ref _ring.Header->Tail);
        if (tail == position) return RingStatus.Empty;
        if (tail < position || tail - _head > _ring.Capacity) return Break();
        _tailCache = tail;
        return RingStatus.Pending;
    }

    // Where a record of this length (header included) at the position ends, or -1 unless it lies
    // within the area without straddling its end (the bytes to the end are a multiple of 8, so the
    // aligned slot fits too) and within the reserved space (an honest producer reserves before it commits).
    private long EndOf(long position, int length)
    {
        var offset = (int)position & _ring.Mask;
        if (length < RingLayout.RecordHeaderLength || length > _ring.Capacity - offset) return -1;
        var end = position + RingRegion.SlotOf(length);
        return end <= _tailCache || TailCovers(end) ? end : -1;
    }

    // Reads the tail afresh: true (and cached) if it is possible and covers end.
    private bool TailCovers(long end)
    {
        var tail = Volatile.Read(ref _ring.Header->Tail);
        if (tail < end || tail - _head > _ring.Capacity) return false;
        _tailCache = tail;
        return true;
    }

    private RingStatus Break()
    {
        _broken = true;
        return RingStatus.Corrupt;
    }
}
