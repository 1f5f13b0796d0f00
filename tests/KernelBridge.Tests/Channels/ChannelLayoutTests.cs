using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Tests.Channels;

/// <summary>The channel's shared layout is an ABI between the kernel and user processes: pinned here as docs/rings.md draws it.</summary>
public sealed unsafe class ChannelLayoutTests
{
    [Theory]
    [InlineData(nameof(ChannelHeader.Magic), 0)]
    [InlineData(nameof(ChannelHeader.Version), 4)]
    [InlineData(nameof(ChannelHeader.HeaderLength), 6)]
    [InlineData(nameof(ChannelHeader.DownCapacity), 8)]
    [InlineData(nameof(ChannelHeader.UpCapacity), 12)]
    [InlineData(nameof(ChannelHeader.DownPolicy), 16)]
    [InlineData(nameof(ChannelHeader.UpPolicy), 20)]
    [InlineData(nameof(ChannelHeader.Flags), 24)]
    [InlineData(nameof(ChannelHeader.Down), 128)]
    [InlineData(nameof(ChannelHeader.Up), 256)]
    public void The_shared_header_fields_sit_where_the_docs_say(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<ChannelHeader>(field));

    [Fact]
    public void The_header_counters_and_constants_are_as_documented()
    {
        Assert.Equal(512, Unsafe.SizeOf<ChannelHeader>());
        Assert.Equal(24, Unsafe.SizeOf<ChannelCounters>());
        Assert.Equal(0, (int)Marshal.OffsetOf<ChannelCounters>(nameof(ChannelCounters.Records)));
        Assert.Equal(8, (int)Marshal.OffsetOf<ChannelCounters>(nameof(ChannelCounters.Bytes)));
        Assert.Equal(16, (int)Marshal.OffsetOf<ChannelCounters>(nameof(ChannelCounters.Dropped)));
        Assert.Equal("KBCH"u8.ToArray(), BitConverter.GetBytes(ChannelLayout.Magic));
        Assert.Equal(1, ChannelLayout.Version);
        Assert.Equal(1, (int)ChannelOverflowPolicy.Block);
        Assert.Equal(2, (int)ChannelOverflowPolicy.Drop);
        Assert.Equal(0, ChannelLayout.DataRecordType);
    }

    [Theory]
    [InlineData(4096, 4096, 512 + 512 + 4096, 512 + 512 + 4096 + 512 + 4096)]
    [InlineData(64, 128, 1152, 1152 + 512 + 128)] // 512 + 576 = 1088, aligned up to 128
    [InlineData(1 << 20, 256, 512 + 512 + (1 << 20), 512 + 512 + (1 << 20) + 512 + 256)]
    public void The_rings_sit_at_offsets_computed_from_the_capacities_alone(int down, int up, long upOffset, long regionLength)
    {
        Assert.Equal(512, ChannelLayout.DownRingOffset);
        Assert.Equal(upOffset, ChannelLayout.UpRingOffset(down));
        Assert.Equal(0, upOffset % ChannelLayout.RingAlignment);
        Assert.Equal(regionLength, ChannelLayout.RegionLength(down, up));
    }

    [Fact]
    public void Initialize_writes_the_geometry_both_ring_headers_and_zero_counters()
    {
        var options = new ChannelOptions(
            new ChannelDirectionOptions(8192, ChannelOverflowPolicy.Drop, MaxRecordLength: 1000),
            new ChannelDirectionOptions(1024, ChannelOverflowPolicy.Block, MultiProducer: true));
        using var channel = new TestChannel(options);
        var header = channel.Header;
        Assert.Equal(ChannelLayout.Magic, header->Magic);
        Assert.Equal((8192, 1024), (header->DownCapacity, header->UpCapacity));
        Assert.Equal((ChannelOverflowPolicy.Drop, ChannelOverflowPolicy.Block), (header->DownPolicy, header->UpPolicy));
        Assert.Equal(default, channel.Driver.Sender.Statistics);
        Assert.Equal((8192, 1000, 0u), (channel.Ring(ChannelDirection.Down)->Capacity, channel.Ring(ChannelDirection.Down)->MaxPayloadLength, (uint)channel.Ring(ChannelDirection.Down)->Flags));
        Assert.Equal((1024, 504, RingFlags.MultiProducer), (channel.Ring(ChannelDirection.Up)->Capacity, channel.Ring(ChannelDirection.Up)->MaxPayloadLength, channel.Ring(ChannelDirection.Up)->Flags));
        Assert.Equal((ChannelOverflowPolicy.Drop, ChannelOverflowPolicy.Block), (channel.Driver.Sender.Policy, channel.User.Sender.Policy));
        Assert.Equal((1000, 504), (channel.Driver.Sender.MaxRecordLength, channel.Driver.Receiver.MaxRecordLength));
        Assert.Equal((ChannelDirection.Down, ChannelDirection.Up), (channel.User.Receiver.Direction, channel.User.Sender.Direction));
    }

    [Fact]
    public void Initialize_refuses_options_no_channel_could_work_with()
    {
        var region = new byte[ChannelLayout.RegionLength(4096, 4096)];
        fixed (byte* p = region)
        {
            var pointer = p;
            var length = region.LongLength;
            var good = new ChannelDirectionOptions(4096);
            void Refused(ChannelDirectionOptions down, ChannelDirectionOptions up, long regionLength) =>
                Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.Initialize(pointer, regionLength, new ChannelOptions(down, up)));
            Refused(good with { Capacity = 3000 }, good, length);
            Refused(good, good with { Capacity = 32 }, length);
            Refused(good, good with { Policy = 0 }, length);
            Refused(good with { Policy = (ChannelOverflowPolicy)3 }, good, length);
            Refused(good, good with { MaxRecordLength = 2048 }, length); // a slot may be half the ring at most
            Refused(good, good, length - 1);
            Refused(good with { Capacity = 8192 }, good, length);
            Assert.Throws<ArgumentNullException>(() => ChannelLayout.Initialize(null, length, new ChannelOptions(good, good)));
        }
    }
}
