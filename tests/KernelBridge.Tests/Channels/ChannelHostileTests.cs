using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// The test plays a hostile peer that wrote the region, or writes into it: a header it broke is
/// refused on attach with its own status, a record it forged is a sticky Corrupt, counters it
/// scribbled on harm no one, and thousands of regions it mangled at random are attached to and used
/// with no exception, no hang and no access past the region's end (a guard page follows it).
/// </summary>
public sealed unsafe class ChannelHostileTests
{
    private const int DownCapacity = 256;
    private const int UpCapacity = 512;

    private static readonly ChannelOptions Small = new(
        new ChannelDirectionOptions(DownCapacity, ChannelOverflowPolicy.Drop),
        new ChannelDirectionOptions(UpCapacity, ChannelOverflowPolicy.Block, MaxRecordLength: 200));

    private static long RegionLength => ChannelLayout.RegionLength(DownCapacity, UpCapacity);

    private static long UpRing => ChannelLayout.UpRingOffset(DownCapacity);

    /// <summary>
    /// Each breaks one thing in a freshly laid-out region, and names the status attach must give
    /// (null: refused, with the status of whichever ring that side looks at first).
    /// </summary>
    public static TheoryData<string, RingStatus?> Breakages => new()
    {
        { "magic", RingStatus.WrongMagic },
        { "version", RingStatus.UnsupportedVersion },
        { "header length", RingStatus.BadGeometry },
        { "flags", RingStatus.BadGeometry },
        { "down capacity not a power of two", RingStatus.BadGeometry },
        { "up capacity zero", RingStatus.BadGeometry },
        { "up capacity negative", RingStatus.BadGeometry },
        { "up capacity past the region", RingStatus.BadGeometry },
        { "down capacity moves the up ring", null },
        { "policy zero", RingStatus.BadGeometry },
        { "policy unknown", RingStatus.BadGeometry },
        { "down ring smaller than the channel says", RingStatus.BadGeometry },
        { "up ring magic", RingStatus.WrongMagic },
        { "up ring capacity past its place", RingStatus.BadGeometry },
        { "down ring tail past the capacity", RingStatus.Corrupt },
        { "region shorter than the rings", RingStatus.BadGeometry },
        { "region shorter than a header", RingStatus.BadGeometry },
    };

    [Theory]
    [MemberData(nameof(Breakages))]
    public void A_broken_header_is_refused_on_attach_by_both_sides(string breakage, RingStatus? expected)
    {
        using var region = new GuardedRegion(RegionLength);
        ChannelLayout.Initialize(region.Pointer, region.Length, Small);
        var header = (ChannelHeader*)region.Pointer;
        var up = (RingHeader*)(region.Pointer + UpRing);
        var down = (RingHeader*)(region.Pointer + ChannelLayout.DownRingOffset);
        var length = region.Length;
        var start = region.Pointer;
        switch (breakage)
        {
            case "magic": header->Magic = RingLayout.Magic; break;
            case "version": header->Version = 2; break;
            case "header length": header->HeaderLength = 256; break;
            case "flags": header->Flags = 1; break;
            case "down capacity not a power of two": header->DownCapacity = 300; break;
            case "up capacity zero": header->UpCapacity = 0; break;
            case "up capacity negative": header->UpCapacity = int.MinValue; break;
            case "up capacity past the region": header->UpCapacity = 1024; break;
            case "down capacity moves the up ring": header->DownCapacity = 128; header->UpCapacity = 512; break;
            case "policy zero": header->UpPolicy = 0; break;
            case "policy unknown": header->DownPolicy = (ChannelOverflowPolicy)77; break;
            case "down ring smaller than the channel says": down->Capacity = 128; down->MaxPayloadLength = 56; break;
            case "up ring magic": up->Magic = 0; break;
            case "up ring capacity past its place": up->Capacity = 1024; break;
            case "down ring tail past the capacity": down->Tail = DownCapacity + 8; break;
            case "region shorter than the rings": length -= 1; break;
            case "region shorter than a header": start += length - 100; length = 100; break;
            default: throw new ArgumentException(breakage, nameof(breakage));
        }
        foreach (var side in new[] { ChannelSide.Driver, ChannelSide.User })
        {
            var status = ChannelEndpoint.TryAttach(start, length, side, null, out var endpoint);
            if (expected is { } refusal) Assert.Equal(refusal, status);
            else Assert.NotEqual(RingStatus.Ok, status);
            Assert.Null(endpoint);
        }
    }

    [Fact]
    public void A_region_that_is_no_channel_at_all_is_refused()
    {
        Assert.Equal(RingStatus.BadGeometry, ChannelEndpoint.TryAttach(null, 1 << 20, ChannelSide.User, null, out _));
        using var region = new GuardedRegion(RegionLength);
        Assert.Equal(RingStatus.WrongMagic, ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.User, null, out _));
        Random.Shared.NextBytes(region.Bytes);
        region.Pointer[0] = 0; // a random magic could only match by a 1 in 2^32 chance; make it none
        Assert.Equal(RingStatus.WrongMagic, ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.Driver, null, out _));
    }

    /// <summary>The channel's records carry its own type; anything else was forged, and the receiver stops trusting the ring.</summary>
    [Fact]
    public void A_record_of_a_type_the_channel_never_writes_is_corrupt_and_stays_corrupt()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        Assert.Equal(RingStatus.Ok, RingWriter.TryAttach((byte*)channel.Ring(ChannelDirection.Down), RingLayout.RegionLength(4096), null, out var forger));
        Assert.Equal(RingStatus.Ok, forger!.TryWrite(ChannelLayout.DataRecordType, "genuine"u8));
        Assert.Equal(RingStatus.Ok, forger.TryWrite(5, "forged"u8));
        Assert.Equal(RingStatus.Ok, forger.TryWrite(ChannelLayout.DataRecordType, "after"u8));
        var receiver = channel.User.Receiver;
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out var record));
        Assert.Equal("genuine"u8.ToArray(), record.ToArray());
        Assert.Equal(RingStatus.Corrupt, receiver.TryReceive(out _));
        Assert.Equal(RingStatus.Corrupt, receiver.TryReceive(out _));
        Assert.Equal(RingStatus.Corrupt, receiver.Receive(out _, TimeSpan.FromSeconds(10)));
        Assert.Equal(RingStatus.Corrupt, receiver.TrySkipAbandoned());
        Assert.Equal(RingStatus.Corrupt, receiver.PrepareToSleep(out _));
    }

    [Fact]
    public void Counters_a_peer_scribbles_on_change_nothing_but_the_figures_it_reads()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        Assert.Equal(RingStatus.Ok, sender.Send("one"u8, TimeSpan.Zero));
        channel.Header->Down.Records = -1234;
        channel.Header->Down.Bytes = long.MaxValue;
        channel.Header->Down.Dropped = -1;
        Assert.Equal(RingStatus.Ok, sender.Send("two"u8, TimeSpan.Zero));
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        // A single sender publishes its own totals; the scribbled drop count is the liar's figure.
        Assert.Equal(new ChannelStatistics(2, 6, -1), receiver.Statistics);
    }

    /// <summary>
    /// 5,000 rounds: a region laid out properly, then a few of its header words (or any bytes)
    /// replaced by awkward values, before attaching and again while both sides use it. Whatever
    /// comes of it is a status; the guard page proves nothing was touched past the end.
    /// </summary>
    [Fact]
    public void Mangled_regions_never_make_either_side_throw_hang_or_reach_past_the_end()
    {
        using var region = new GuardedRegion(RegionLength);
        var random = new Random(12);
        var payload = new byte[300];
        var attached = 0;
        for (var round = 0; round < 5000; round++)
        {
            ChannelLayout.Initialize(region.Pointer, region.Length, Small);
            Mangle(region, random);
            var driverStatus = ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.Driver, null, out var driver);
            var userStatus = ChannelEndpoint.TryAttach(region.Pointer, region.Length, ChannelSide.User, null, out var user);
            Assert.Equal(driverStatus == RingStatus.Ok, driver is not null);
            Assert.Equal(userStatus == RingStatus.Ok, user is not null);
            if (driver is null || user is null) continue;
            attached++;
            driver.Sender.SpinTime = driver.Receiver.SpinTime = user.Sender.SpinTime = user.Receiver.SpinTime = TimeSpan.Zero;
            for (var step = 0; step < 40; step++)
            {
                if (random.Next(8) == 0) Mangle(region, random);
                var endpoint = random.Next(2) == 0 ? driver : user;
                switch (random.Next(5))
                {
                    case 0:
                        endpoint.Sender.Send(payload.AsSpan(0, random.Next(payload.Length)), TimeSpan.Zero);
                        break;
                    case 1:
                        if (endpoint.Sender.Reserve(random.Next(-1, 250), TimeSpan.Zero, out var reservation) == RingStatus.Ok)
                        {
                            reservation.Payload.Fill(0xAB);
                            if (random.Next(4) == 0) reservation.Discard();
                            else reservation.Commit();
                        }
                        break;
                    case 2:
                        endpoint.Receiver.TryReceive(out var record);
                        _ = record.Length;
                        break;
                    case 3:
                        endpoint.Receiver.Receive(out _, TimeSpan.Zero);
                        break;
                    default:
                        endpoint.Receiver.TrySkipAbandoned();
                        _ = endpoint.Receiver.Statistics;
                        break;
                }
            }
        }
        Assert.True(attached > 100, $"only {attached} rounds got past attach: the mangling is too blunt to test the endpoints");
    }

    private static void Mangle(GuardedRegion region, Random random)
    {
        ReadOnlySpan<long> awkward = [0, 1, -1, 8, 64, 255, 256, 512, 4096, int.MaxValue, int.MinValue, 1L << 30, long.MaxValue, long.MinValue, -8];
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            // Mostly the headers (channel, down ring, up ring), where the numbers that matter live.
            var offset = random.Next(4) switch
            {
                0 => random.Next(ChannelLayout.HeaderLength),
                1 => (int)ChannelLayout.DownRingOffset + random.Next(RingLayout.HeaderLength),
                2 => (int)UpRing + random.Next(RingLayout.HeaderLength),
                _ => random.Next((int)region.Length),
            };
            offset &= ~3;
            var value = awkward[random.Next(awkward.Length)];
            if (random.Next(2) == 0 && offset + 8 <= region.Length) *(long*)(region.Pointer + (offset & ~7)) = value;
            else *(int*)(region.Pointer + offset) = (int)value;
        }
    }
}
