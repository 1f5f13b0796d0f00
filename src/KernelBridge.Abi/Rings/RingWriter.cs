using System.Runtime.CompilerServices;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// The producer side of a ring in a region it does not own the safety of: reserve, fill, commit,
/// then <see cref="Notify"/> once per batch. On a single-producer ring one thread uses it; on a
/// multi-producer ring any number of threads (and writers in other processes) may, concurrently.
/// Nothing here allocates; the peer's indices are validated before use (docs/rings.md).
/// </summary>
public sealed unsafe class RingWriter
{
    // Bounds a reservation's compare-and-swap retries, so a co-producer that keeps moving the tail cannot spin us forever.
    private const int MaxClaimAttempts = 4096;

    private readonly RingRegion _ring;
    private readonly bool _multiProducer;
    private readonly IRingDoorbell? _doorbell;

    // Single producer: the tail itself (the shared copy is only published). Multi: unused.
    private long _tail;
    // A head seen earlier: never ahead of the real one, so free space computed from it is never overstated.
    private long _headCache;
    private bool _broken;
    private volatile bool _cancelled;

    private RingWriter(RingRegion ring, IRingDoorbell? doorbell, long tail, long head)
    {
        _ring = ring;
        _multiProducer = ring.Geometry.MultiProducer;
        _doorbell = doorbell;
        _tail = tail;
        _headCache = head;
    }

    public RingGeometry Geometry => _ring.Geometry;

    /// <summary>How long a wait spins before it sleeps (it should exceed a wake-up, tens of µs on a VM).</summary>
    public TimeSpan SpinTime { get; set; } = TimeSpan.FromMicroseconds(20);

    /// <summary>
    /// Attaches to an initialised ring (<see cref="RingLayout.Initialize"/>). The region must stay
    /// mapped while the writer is used. A bad header gives its status and no writer.
    /// </summary>
    public static RingStatus TryAttach(byte* region, long regionLength, IRingDoorbell? doorbell, out RingWriter? writer)
    {
        writer = null;
        var status = RingRegion.TryAttach(region, regionLength, out var ring, out var head, out var tail);
        if (status != RingStatus.Ok) return status;
        writer = new RingWriter(ring, doorbell, tail, head);
        return RingStatus.Ok;
    }

    /// <summary>
    /// Reserves room for one record of <paramref name="type"/> (≥ 0) with a payload of
    /// <paramref name="payloadLength"/> bytes. <see cref="RingStatus.Full"/> when the reader has
    /// not released enough yet (wait with <see cref="WaitForSpace"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RingStatus TryReserve(int type, int payloadLength, out RingReservation reservation)
    {
        reservation = default;
        if ((uint)payloadLength > (uint)_ring.MaxPayload || (_ring.FixedPayload != 0 && payloadLength != _ring.FixedPayload) || type < 0)
            return RingStatus.InvalidRecord;
        if (_broken) return RingStatus.Corrupt;
        var slot = RingLayout.SlotLength(payloadLength);
        long start;
        long required;
        var status = _multiProducer ? ClaimShared(slot, out start, out required) : ClaimPrivate(slot, out start, out required);
        if (status != RingStatus.Ok) return status;

        var offset = (int)start & _ring.Mask;
        if (required != slot)
        {
            // The record would straddle the end: the space up to the end becomes a committed padding record.
            var padding = (RingRecordHeader*)(_ring.Data + offset);
            padding->Type = RingLayout.PaddingType;
            Volatile.Write(ref padding->Length, _ring.Capacity - offset);
            offset = 0;
        }
        var record = (RingRecordHeader*)(_ring.Data + offset);
        var recordLength = RingLayout.RecordHeaderLength + payloadLength;
        record->Type = type;
        // Marks the slot reserved (the reader reports Pending, and knows the length if it must skip it).
        record->Length = -recordLength;
        reservation = new RingReservation(record, recordLength, payloadLength);
        return RingStatus.Ok;
    }

    /// <summary>Reserves, copies <paramref name="payload"/> in and commits (no doorbell: call <see cref="Notify"/>).</summary>
    public RingStatus TryWrite(int type, ReadOnlySpan<byte> payload)
    {
        var status = TryReserve(type, payload.Length, out var reservation);
        if (status != RingStatus.Ok) return status;
        payload.CopyTo(reservation.Payload);
        reservation.Commit();
        return RingStatus.Ok;
    }

    /// <summary>Writes one <typeparamref name="T"/> as a record (the fixed-size case).</summary>
    public RingStatus TryWrite<T>(int type, in T value) where T : unmanaged
    {
        var status = TryReserve(type, Unsafe.SizeOf<T>(), out var reservation);
        if (status != RingStatus.Ok) return status;
        Unsafe.WriteUnaligned(ref reservation.Payload[0], value);
        reservation.Commit();
        return RingStatus.Ok;
    }

    /// <summary>
    /// Rings the doorbell after a batch of commits: wakes the reader only if it said it is going to
    /// sleep, so a busy reader costs a fence and a load here, no system call.
    /// </summary>
    public void Notify()
    {
        // StoreLoad: our commits must be visible before we look at the flag, as the reader sets the
        // flag before it looks at the records (Dekker): one of the two sees the other.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _ring.Header->ConsumerSleeping) == 0) return;
        // Only one producer pays for the wake-up; the reader sets the flag again before each sleep.
        if (Interlocked.Exchange(ref _ring.Header->ConsumerSleeping, 0) == 0) return;
        Interlocked.Increment(ref _ring.Header->DataSignal);
        _doorbell?.Wake(&_ring.Header->DataSignal, 1);
    }

    /// <summary>
    /// Waits until a record of <paramref name="payloadLength"/> bytes may fit: spins for
    /// <see cref="SpinTime"/>, then sleeps on the space doorbell. Ok, TimedOut, Cancelled or Corrupt.
    /// </summary>
    public RingStatus WaitForSpace(int payloadLength, TimeSpan timeout)
    {
        var slot = RingLayout.SlotLength(Math.Clamp(payloadLength, 0, _ring.MaxPayload));
        var clock = new RingWaitClock(SpinTime, timeout);
        while (true)
        {
            if (_broken) return RingStatus.Corrupt;
            if (HasRoomFor(slot)) return RingStatus.Ok;
            if (_cancelled) return RingStatus.Cancelled;
            if (!clock.Spinning) break;
            Thread.SpinWait(1);
        }
        while (true)
        {
            var remaining = clock.RemainingMilliseconds;
            if (remaining == 0) return RingStatus.TimedOut;
            // Full fence: the flag is visible before we look at the head again (pairs with the reader's release).
            Interlocked.Exchange(ref _ring.Header->ProducersSleeping, 1);
            var signal = Volatile.Read(ref _ring.Header->SpaceSignal);
            if (HasRoomFor(slot)) return RingStatus.Ok;
            if (_cancelled) return RingStatus.Cancelled;
            RingWaitClock.Sleep(_doorbell, &_ring.Header->SpaceSignal, signal, remaining);
        }
    }

    /// <summary>The word a multiplexing waiter sleeps on (futex_waitv) after <see cref="PrepareToWaitForSpace"/>.</summary>
    public uint* SpaceSignal => &_ring.Header->SpaceSignal;

    /// <summary>
    /// The first half of a wait for space, for a thread that waits on many rings at once (and never
    /// blocks in <see cref="WaitForSpace"/>): raises the producers' sleeping flag, then looks again.
    /// Full: sleep on <see cref="SpaceSignal"/> while it still holds <paramref name="signal"/> (the
    /// reader's next release wakes it). Ok: there is room now, do not sleep. Corrupt or Cancelled.
    /// The flag needs no lowering: the reader lowers it when it wakes the producers.
    /// </summary>
    public RingStatus PrepareToWaitForSpace(int payloadLength, out uint signal)
    {
        var slot = RingLayout.SlotLength(Math.Clamp(payloadLength, 0, _ring.MaxPayload));
        Interlocked.Exchange(ref _ring.Header->ProducersSleeping, 1);
        signal = Volatile.Read(ref _ring.Header->SpaceSignal);
        if (_broken) return RingStatus.Corrupt;
        if (_cancelled) return RingStatus.Cancelled;
        return HasRoomFor(slot) ? RingStatus.Ok : RingStatus.Full;
    }

    /// <summary>Makes a current and every later <see cref="WaitForSpace"/> return <see cref="RingStatus.Cancelled"/> (the reader is gone).</summary>
    public void Cancel()
    {
        _cancelled = true;
        Interlocked.Increment(ref _ring.Header->SpaceSignal);
        _doorbell?.Wake(&_ring.Header->SpaceSignal, int.MaxValue);
    }

    private RingStatus ClaimPrivate(int slot, out long start, out long required)
    {
        var tail = _tail;
        start = tail;
        required = Required(tail, slot);
        if (tail + required - _headCache > _ring.Capacity)
        {
            // Acquire: the reader zeroed what it released before it published the head.
            var head = Volatile.Read(ref _ring.Header->Head);
            var used = tail - head;
            if ((ulong)used > (ulong)_ring.Capacity || head < _headCache) return Break();
            _headCache = head;
            if (used + required > _ring.Capacity) return RingStatus.Full;
        }
        _tail = tail + required;
        // Publishing the tail is the reservation, as the compare-and-swap is for several producers:
        // it comes before any header we write, so a committed record (or padding) is always inside it.
        Volatile.Write(ref _ring.Header->Tail, _tail);
        return RingStatus.Ok;
    }

    private RingStatus ClaimShared(int slot, out long start, out long required)
    {
        for (var attempt = 0; attempt < MaxClaimAttempts; attempt++)
        {
            var tail = Volatile.Read(ref _ring.Header->Tail);
            required = Required(tail, slot);
            var seen = Volatile.Read(ref _headCache);
            var used = tail - seen;
            if ((ulong)used > (ulong)_ring.Capacity || used + required > _ring.Capacity)
            {
                // Head, tail, head: an honest pair always has head1 <= tail2 <= head2 + capacity,
                // whatever the others did in between, and the head is never below one seen before
                // (read before head1: another thread may raise the cache meanwhile); anything else
                // is the peer's corruption.
                var head1 = Volatile.Read(ref _ring.Header->Head);
                var tail2 = Volatile.Read(ref _ring.Header->Tail);
                var head2 = Volatile.Read(ref _ring.Header->Head);
                if (tail2 < head1 || tail2 - head2 > _ring.Capacity || head2 < head1 || head1 < seen)
                {
                    start = 0;
                    return Break();
                }
                Volatile.Write(ref _headCache, head2);
                if (tail2 != tail || tail2 < head2) continue; // someone moved meanwhile: look again
                if (tail - head2 + required > _ring.Capacity)
                {
                    start = 0;
                    return RingStatus.Full;
                }
            }
            // Full barrier: the reservation is ours alone, and the header we write next comes after it.
            if (Interlocked.CompareExchange(ref _ring.Header->Tail, tail + required, tail) == tail)
            {
                start = tail;
                return RingStatus.Ok;
            }
        }
        start = 0;
        required = 0;
        return RingStatus.Full;
    }

    private bool HasRoomFor(int slot)
    {
        var tail = _multiProducer ? Volatile.Read(ref _ring.Header->Tail) : _tail;
        var used = tail - Volatile.Read(ref _ring.Header->Head);
        // Impossible values are not ours to judge here: TryReserve will validate them properly.
        if ((ulong)used > (ulong)_ring.Capacity) return true;
        return used + Required(tail, slot) <= _ring.Capacity;
    }

    // The bytes a slot needs at this tail: the slot, plus the bytes to the end if it would straddle it (they become padding).
    private long Required(long tail, int slot)
    {
        var toEnd = _ring.Capacity - ((int)tail & _ring.Mask);
        return slot <= toEnd ? slot : slot + toEnd;
    }

    private RingStatus Break()
    {
        _broken = true;
        return RingStatus.Corrupt;
    }
}
