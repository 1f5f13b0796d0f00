using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Tests.Rings;

/// <summary>The ring's shared layout is an ABI between processes: pinned here as docs/rings.md draws it, so a change is always deliberate.</summary>
public sealed class RingLayoutTests
{
    [Theory]
    [InlineData(nameof(RingHeader.Magic), 0)]
    [InlineData(nameof(RingHeader.Version), 4)]
    [InlineData(nameof(RingHeader.HeaderLength), 6)]
    [InlineData(nameof(RingHeader.Capacity), 8)]
    [InlineData(nameof(RingHeader.MaxPayloadLength), 12)]
    [InlineData(nameof(RingHeader.FixedPayloadLength), 16)]
    [InlineData(nameof(RingHeader.Flags), 20)]
    [InlineData(nameof(RingHeader.Tail), 128)]
    [InlineData(nameof(RingHeader.Head), 256)]
    [InlineData(nameof(RingHeader.ConsumerSleeping), 384)]
    [InlineData(nameof(RingHeader.DataSignal), 388)]
    [InlineData(nameof(RingHeader.ProducersSleeping), 448)]
    [InlineData(nameof(RingHeader.SpaceSignal), 452)]
    public void The_shared_header_fields_sit_where_the_docs_say(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<RingHeader>(field));

    [Fact]
    public void The_header_and_record_header_have_their_documented_sizes_and_constants()
    {
        Assert.Equal(512, Unsafe.SizeOf<RingHeader>());
        Assert.Equal(RingLayout.HeaderLength, Unsafe.SizeOf<RingHeader>());
        Assert.Equal(8, Unsafe.SizeOf<RingRecordHeader>());
        Assert.Equal(0, (int)Marshal.OffsetOf<RingRecordHeader>(nameof(RingRecordHeader.Length)));
        Assert.Equal(4, (int)Marshal.OffsetOf<RingRecordHeader>(nameof(RingRecordHeader.Type)));
        Assert.Equal(0x4752_424Bu, RingLayout.Magic);
        Assert.Equal("KBRG"u8.ToArray(), BitConverter.GetBytes(RingLayout.Magic));
        Assert.Equal(1, RingLayout.Version);
        Assert.Equal(-1, RingLayout.PaddingType);
        Assert.Equal(520, RingLayout.RegionLength(8));
        Assert.Equal(16, RingLayout.SlotLength(1));
        Assert.Equal(16, RingLayout.SlotLength(8));
        Assert.Equal(24, RingLayout.SlotLength(9));
        Assert.Equal(120, RingLayout.MaxPayloadFor(256));
    }

    [Fact]
    public void Initialize_refuses_options_no_ring_could_work_with()
    {
        var region = new byte[RingLayout.RegionLength(1024)];
        unsafe
        {
            fixed (byte* p = region)
            {
                var pointer = p;
                var length = region.LongLength;
                Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Initialize(pointer, length, new RingOptions(1000)));
                Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Initialize(pointer, length, new RingOptions(32)));
                Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Initialize(pointer, length, new RingOptions(2048)));
                Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Initialize(pointer, length, new RingOptions(1024, MaxPayloadLength: 512)));
                Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Initialize(pointer, length, new RingOptions(1024, MaxPayloadLength: 100, FixedPayloadLength: 101)));
                RingLayout.Initialize(pointer, length, new RingOptions(1024, FixedPayloadLength: 56));
                Assert.Equal(RingStatus.Ok, RingGeometry.TryRead(pointer, length, out var geometry));
                Assert.Equal((1024, 504, 56, false), (geometry.Capacity, geometry.MaxPayloadLength, geometry.FixedPayloadLength, geometry.MultiProducer));
            }
        }
    }
}
