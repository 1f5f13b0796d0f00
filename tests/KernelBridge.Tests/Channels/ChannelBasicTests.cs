using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.TestClient;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// Both endpoints in one thread: records each way, copied or zero-copy, reservations committed or
/// discarded, many wrap-arounds with random sizes, the traffic counters, and the receiver's
/// batched releases.
/// </summary>
public sealed unsafe class ChannelBasicTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static TheoryData<ChannelDirection> Directions => new() { ChannelDirection.Down, ChannelDirection.Up };

    [Theory]
    [MemberData(nameof(Directions))]
    public void A_record_goes_each_way_intact(ChannelDirection direction)
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        var (sender, receiver) = channel.Way(direction);
        Assert.Equal(direction, sender.Direction);
        Assert.Equal(direction, receiver.Direction);
        Assert.Equal(RingStatus.Ok, sender.Send("hello, other side"u8, Patience));
        Assert.Equal(RingStatus.Ok, receiver.Receive(out var record, Patience));
        Assert.Equal("hello, other side"u8.ToArray(), record.ToArray());
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
    }

    [Fact]
    public void Both_directions_carry_records_at_once_without_mixing_them()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        Assert.Equal(RingStatus.Ok, channel.Driver.Sender.Send("down"u8, Patience));
        Assert.Equal(RingStatus.Ok, channel.User.Sender.Send("up"u8, Patience));
        var buffer = new byte[channel.User.Receiver.MaxRecordLength];
        Assert.Equal(RingStatus.Ok, channel.User.Receiver.TryReceive(buffer, out var length));
        Assert.Equal("down"u8.ToArray(), buffer[..length]);
        Assert.Equal(RingStatus.Ok, channel.Driver.Receiver.Receive(buffer, out length, Patience));
        Assert.Equal("up"u8.ToArray(), buffer[..length]);
        Assert.Equal(RingStatus.Empty, channel.Driver.Receiver.TryReceive(buffer, out length));
        Assert.Equal(0, length);
    }

    [Fact]
    public void Empty_and_longest_records_go_and_a_longer_one_is_refused()
    {
        using var channel = new TestChannel(TestChannel.Options(4096, maxRecord: 1000));
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        var longest = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Assert.Equal(RingStatus.Ok, sender.Send([], Patience));
        Assert.Equal(RingStatus.Ok, sender.Send(longest, Patience));
        Assert.Equal(RingStatus.InvalidRecord, sender.Send(new byte[1001], Patience));
        Assert.Equal(RingStatus.InvalidRecord, sender.Reserve(-1, Patience, out _));
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out var record));
        Assert.Equal(0, record.Length);
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out record));
        Assert.Equal(longest, record.ToArray());
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
    }

    [Fact]
    public void A_copying_receive_wants_a_buffer_for_the_longest_record()
    {
        using var channel = new TestChannel(TestChannel.Options(4096, maxRecord: 1000));
        Assert.Throws<ArgumentException>(() => channel.User.Receiver.TryReceive(new byte[999], out _));
        Assert.Throws<ArgumentException>(() => channel.User.Receiver.Receive(new byte[10], out _, Patience));
    }

    [Fact]
    public void A_negative_or_infinite_timeout_is_the_callers_mistake()
    {
        using var channel = new TestChannel(TestChannel.Options(256));
        Assert.Throws<ArgumentOutOfRangeException>(() => channel.User.Receiver.Receive(out _, Timeout.InfiniteTimeSpan));
        while (channel.Driver.Sender.Send(new byte[40], TimeSpan.Zero) == RingStatus.Ok)
        {
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => channel.Driver.Sender.Send(new byte[40], TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void A_reservation_is_pending_until_committed_and_holds_up_the_records_after_it()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        var (sender, receiver) = channel.Way(ChannelDirection.Up);
        Assert.Equal(RingStatus.Ok, sender.Reserve(5, Patience, out var first));
        Assert.Equal(RingStatus.Ok, sender.Send("second"u8, Patience));
        Assert.Equal(RingStatus.Pending, receiver.TryReceive(out _));
        "first"u8.CopyTo(first.Payload);
        first.Commit();
        first.Commit(); // once only: a second commit changes nothing
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out var record));
        Assert.Equal("first"u8.ToArray(), record.ToArray());
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out record));
        Assert.Equal("second"u8.ToArray(), record.ToArray());
        Assert.Equal(new ChannelStatistics(2, 11, 0), receiver.Statistics);
    }

    [Fact]
    public void A_discarded_reservation_is_skipped_and_not_counted()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        Assert.Equal(RingStatus.Ok, sender.Reserve(300, Patience, out var abandoned));
        abandoned.Payload.Fill(0xEE);
        Assert.Equal(RingStatus.Ok, sender.Send("kept"u8, Patience));
        abandoned.Discard();
        abandoned.Commit(); // already finished: no effect
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out var record));
        Assert.Equal("kept"u8.ToArray(), record.ToArray());
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
        Assert.Equal(new ChannelStatistics(1, 4, 0), sender.Statistics);
        default(ChannelReservation).Commit(); // a reservation never made is nothing to commit
    }

    [Fact]
    public void The_receiver_releases_in_batches_and_everything_once_it_runs_dry()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        var ring = channel.Ring(ChannelDirection.Down);
        for (var i = 0; i < 40; i++) Assert.Equal(RingStatus.Ok, sender.Send(new byte[56], Patience)); // 64-byte slots
        for (var i = 0; i < 16; i++) Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        Assert.Equal(0, ring->Head); // 16 slots are a quarter of the ring: not yet
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        Assert.Equal(1024, ring->Head); // the 17th receive gave the first 16 back before it read
        for (var i = 17; i < 40; i++) Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
        Assert.Equal(40 * 64, ring->Head);
        Assert.Equal(RingStatus.Ok, sender.Send(new byte[56], Patience));
        Assert.Equal(RingStatus.Ok, receiver.TryReceive(out _));
        receiver.Release();
        Assert.Equal(41 * 64, ring->Head);
    }

    [Fact]
    public void Each_direction_counts_its_own_traffic_and_both_sides_see_it()
    {
        using var channel = new TestChannel(TestChannel.Options(4096));
        for (var i = 1; i <= 3; i++) Assert.Equal(RingStatus.Ok, channel.Driver.Sender.Send(new byte[i * 10], Patience));
        Assert.Equal(RingStatus.Ok, channel.User.Sender.Send(new byte[7], Patience));
        Assert.Equal(new ChannelStatistics(3, 60, 0), channel.Driver.Sender.Statistics);
        Assert.Equal(new ChannelStatistics(3, 60, 0), channel.User.Receiver.Statistics);
        Assert.Equal(new ChannelStatistics(1, 7, 0), channel.User.Sender.Statistics);
        Assert.Equal(new ChannelStatistics(1, 7, 0), channel.Driver.Receiver.Statistics);
        // A sender attached again (its process restarted) carries on from the published totals.
        var again = channel.Attach(ChannelSide.Driver);
        Assert.Equal(RingStatus.Ok, again.Sender.Send(new byte[5], Patience));
        Assert.Equal(new ChannelStatistics(4, 65, 0), channel.User.Receiver.Statistics);
    }

    [Theory]
    [MemberData(nameof(Directions))]
    public void Records_of_random_sizes_arrive_intact_across_many_wrap_arounds(ChannelDirection direction)
    {
        using var channel = new TestChannel(TestChannel.Options(4096, maxRecord: 2000));
        var (sender, receiver) = channel.Way(direction);
        const ulong Seed = 11;
        long sent = 0;
        long received = 0;
        var random = new Random(5);
        var buffer = new byte[receiver.MaxRecordLength];
        while (received < 20_000)
        {
            // A few records in, a few out: the ring runs full, then dry, then full again.
            for (var n = random.Next(1, 8); n > 0; n--)
            {
                var record = buffer.AsSpan(0, ChannelTraffic.Length(Seed, sent, buffer.Length));
                ChannelTraffic.Fill(Seed, sent, record);
                var status = sender.Send(record, TimeSpan.Zero);
                if (status == RingStatus.TimedOut) break; // full: the receiver's turn
                Assert.Equal(RingStatus.Ok, status);
                sent++;
            }
            for (var n = random.Next(1, 8); n > 0; n--)
            {
                var status = receiver.TryReceive(out var record);
                if (received == sent)
                {
                    // Dry: which also gives everything read back (a receiver that stops short of this holds its last batch).
                    Assert.Equal(RingStatus.Empty, status);
                    break;
                }
                Assert.Equal(RingStatus.Ok, status);
                Assert.True(ChannelTraffic.Matches(Seed, received, buffer.Length, record), $"record {received}");
                received++;
            }
        }
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
        Assert.Equal(0, receiver.Statistics.Dropped);
        Assert.Equal(sent, receiver.Statistics.Records);
        Assert.True(channel.Ring(direction)->Tail > 200L * 4096, "the ring did not wrap around many times");
    }
}
