using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// One side of a shared channel (the driver's or the user process's), attached to a region laid out
/// by <see cref="ChannelLayout.Initialize"/>: a <see cref="Sender"/> on this side's outgoing ring
/// and a <see cref="Receiver"/> on its incoming one, usable from two threads at once. The region
/// must stay mapped while the endpoint is used; one endpoint per side.
/// </summary>
public sealed unsafe class ChannelEndpoint
{
    private ChannelEndpoint(ChannelSide side, ChannelGeometry geometry, ChannelSender sender, ChannelReceiver receiver)
    {
        Side = side;
        Geometry = geometry;
        Sender = sender;
        Receiver = receiver;
    }

    public ChannelSide Side { get; }

    public ChannelGeometry Geometry { get; }

    public ChannelSender Sender { get; }

    public ChannelReceiver Receiver { get; }

    /// <summary>The direction a side sends on.</summary>
    public static ChannelDirection Outgoing(ChannelSide side) => side == ChannelSide.Driver ? ChannelDirection.Down : ChannelDirection.Up;

    /// <summary>The direction a side receives on.</summary>
    public static ChannelDirection Incoming(ChannelSide side) => side == ChannelSide.Driver ? ChannelDirection.Up : ChannelDirection.Down;

    /// <summary>
    /// Checks the channel header, then attaches to both rings (each checks its own header, and its
    /// capacity must be the one the channel header gives). A region the peer filled with garbage
    /// gives WrongMagic, UnsupportedVersion, BadGeometry or Corrupt, and no endpoint; nothing is
    /// read outside [region, region + regionLength). What passes is what the header says: the creator
    /// attaches right after <see cref="ChannelLayout.Initialize"/>, before sharing the region; a side
    /// attaching later compares <see cref="Geometry"/> with what it expects.
    /// </summary>
    public static RingStatus TryAttach(byte* region, long regionLength, ChannelSide side, IRingDoorbell? doorbell, out ChannelEndpoint? endpoint)
    {
        endpoint = null;
        var status = ChannelGeometry.TryRead(region, regionLength, out var geometry);
        if (status != RingStatus.Ok) return status;

        var outgoing = Outgoing(side);
        var incoming = Incoming(side);
        status = RingWriter.TryAttach(RingAt(region, geometry, outgoing), RingLength(geometry, outgoing), doorbell, out var writer);
        if (status != RingStatus.Ok) return status;
        status = RingReader.TryAttach(RingAt(region, geometry, incoming), RingLength(geometry, incoming), doorbell, out var reader);
        if (status != RingStatus.Ok) return status;
        // A ring smaller than the channel says is a lie about the layout: the other ring's offset depends on it.
        if (writer!.Geometry.Capacity != geometry.Capacity(outgoing) || reader!.Geometry.Capacity != geometry.Capacity(incoming))
            return RingStatus.BadGeometry;

        var header = (ChannelHeader*)region;
        var sender = new ChannelSender(writer, Counters(header, outgoing), outgoing, geometry.Policy(outgoing));
        var receiver = new ChannelReceiver(reader, Counters(header, incoming), incoming);
        endpoint = new ChannelEndpoint(side, geometry, sender, receiver);
        return RingStatus.Ok;
    }

    /// <summary>Ends the current and every later wait on both rings with Cancelled (the owner learnt the peer is gone).</summary>
    public void Cancel()
    {
        Sender.Cancel();
        Receiver.Cancel();
    }

    private static byte* RingAt(byte* region, ChannelGeometry geometry, ChannelDirection direction) => region + geometry.RingOffset(direction);

    private static long RingLength(ChannelGeometry geometry, ChannelDirection direction) => RingLayout.RegionLength(geometry.Capacity(direction));

    private static ChannelCounters* Counters(ChannelHeader* header, ChannelDirection direction) =>
        direction == ChannelDirection.Down ? &header->Down : &header->Up;
}
