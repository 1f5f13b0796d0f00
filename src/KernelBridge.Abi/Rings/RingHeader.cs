using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// The shared header at the start of a ring's region (docs/rings.md draws it byte by byte). The
/// first line is the geometry, written once by the creator; each index and doorbell sits on a
/// cache-line pair of its own so the producer's and the consumer's writes never share a line.
/// Both sides may scribble on any of it: readers copy what they need once and validate it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = RingLayout.HeaderLength)]
public struct RingHeader
{
    /// <summary><see cref="RingLayout.Magic"/>.</summary>
    [FieldOffset(0)] public uint Magic;

    /// <summary><see cref="RingLayout.Version"/>.</summary>
    [FieldOffset(4)] public ushort Version;

    /// <summary><see cref="RingLayout.HeaderLength"/>: where the data area starts.</summary>
    [FieldOffset(6)] public ushort HeaderLength;

    /// <summary>Bytes in the data area: a power of two.</summary>
    [FieldOffset(8)] public int Capacity;

    /// <summary>The longest payload a record may carry (its slot is at most half the capacity).</summary>
    [FieldOffset(12)] public int MaxPayloadLength;

    /// <summary>Non-zero: every record's payload is exactly this long.</summary>
    [FieldOffset(16)] public int FixedPayloadLength;

    [FieldOffset(20)] public RingFlags Flags;

    /// <summary>Producers' position: every byte before it is reserved (64-bit, only ever grows).</summary>
    [FieldOffset(128)] public long Tail;

    /// <summary>The consumer's position: every byte before it is released, zeroed and free again.</summary>
    [FieldOffset(256)] public long Head;

    /// <summary>Non-zero while the consumer is (about to be) asleep on <see cref="DataSignal"/>.</summary>
    [FieldOffset(384)] public int ConsumerSleeping;

    /// <summary>The consumer's futex word: a producer bumps it, then wakes the consumer.</summary>
    [FieldOffset(388)] public uint DataSignal;

    /// <summary>Non-zero while some producer is (about to be) asleep on <see cref="SpaceSignal"/>.</summary>
    [FieldOffset(448)] public int ProducersSleeping;

    /// <summary>The producers' futex word: the consumer bumps it after a release, then wakes them.</summary>
    [FieldOffset(452)] public uint SpaceSignal;
}

/// <summary>How a ring is used; fixed when it is created.</summary>
[Flags]
public enum RingFlags : uint
{
    None = 0,

    /// <summary>Producers in several threads or processes reserve with a compare-and-swap on <see cref="RingHeader.Tail"/>.</summary>
    MultiProducer = 1,
}
