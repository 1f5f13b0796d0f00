namespace KernelBridge.Abi.Rings;

/// <summary>
/// What a ring operation found. Everything the other side can cause is a value here, never an
/// exception: the peer is hostile or may die at any moment.
/// </summary>
public enum RingStatus
{
    /// <summary>Done: a record was reserved, read or skipped, or a wait found one ready.</summary>
    Ok = 0,

    /// <summary>Reader: nothing has been reserved past what was read.</summary>
    Empty,

    /// <summary>Reader: the next record is reserved but not committed yet (its producer is still writing it, or died).</summary>
    Pending,

    /// <summary>Writer: not enough free space now (the reader has not released enough).</summary>
    Full,

    /// <summary>Writer: the caller asked for a record the ring's geometry refuses (too long, not the fixed length, a negative type).</summary>
    InvalidRecord,

    /// <summary>A wait ended by its timeout with nothing ready.</summary>
    TimedOut,

    /// <summary>Reader: a wait ended by its timeout while the next record stayed reserved but uncommitted: its producer stalled or died.</summary>
    Stalled,

    /// <summary>A wait ended because <c>Cancel</c> was called (the owner learnt that the peer is gone).</summary>
    Cancelled,

    /// <summary>
    /// The peer broke the protocol: an index moved backwards or past the capacity, a length points
    /// outside the area or past the committed space. Sticky: every later call says so again.
    /// </summary>
    Corrupt,

    /// <summary>Attach: the region does not start with the ring's magic number.</summary>
    WrongMagic,

    /// <summary>Attach: the region's layout version is not the one this code implements.</summary>
    UnsupportedVersion,

    /// <summary>Attach: the header's geometry is impossible or does not fit the region (capacity, lengths, flags).</summary>
    BadGeometry,
}
