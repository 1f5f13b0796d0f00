using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// Room a sender reserved for one record: fill <see cref="Payload"/> in place, then
/// <see cref="Commit"/> (the receiver sees it and is woken if it sleeps), or <see cref="Discard"/>
/// (it becomes padding the receiver skips). Exactly one of the two, once: a reservation left open
/// holds up every record after it.
/// </summary>
public unsafe ref struct ChannelReservation
{
    private readonly ChannelSender? _sender;
    private readonly RingReservation _ring;
    private bool _finished;

    internal ChannelReservation(ChannelSender sender, RingReservation ring)
    {
        _sender = sender;
        _ring = ring;
        _finished = false;
    }

    /// <summary>The record's bytes, in shared memory.</summary>
    public readonly Span<byte> Payload => _ring.Payload;

    /// <summary>Publishes the record (the payload must be written before) and rings the doorbell.</summary>
    public void Commit()
    {
        if (_sender is null || _finished) return;
        _finished = true;
        _ring.Commit();
        _sender.Committed(_ring.Payload.Length);
    }

    /// <summary>
    /// Gives the record up (the caller failed to fill it): it is committed as a padding record,
    /// which the receiver skips, so the ring carries on.
    /// </summary>
    public void Discard()
    {
        if (_sender is null || _finished) return;
        _finished = true;
        // The ring's record header sits right before the payload (docs/rings.md, "Records"); its
        // type is written before the length, as the writer does, and the commit releases both.
        var header = (RingRecordHeader*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(_ring.Payload)) - 1;
        header->Type = RingLayout.PaddingType;
        _ring.Commit();
        _sender.Discarded();
    }
}
