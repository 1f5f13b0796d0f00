using System.Diagnostics;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.TestClient;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// A full ring, under each policy: Drop returns at once and counts exactly the records that did not
/// fit; Block waits for the receiver's release (woken through the futex doorbell) up to its
/// timeout, counts nothing, and ends early when cancelled. Every wait here is bounded.
/// </summary>
public sealed unsafe class ChannelOverflowTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>100-byte records take 112-byte slots: 9 fill 1,008 of the ring's 1,024 bytes, and a 10th would need 112 + 16 bytes of padding.</summary>
    [Fact]
    public void Drop_counts_exactly_the_records_that_did_not_fit_and_both_sides_see_it()
    {
        using var channel = new TestChannel(TestChannel.Options(1024, ChannelOverflowPolicy.Drop));
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        var record = new byte[100];
        var fitted = 0;
        for (long i = 0; i < 50; i++)
        {
            ChannelTraffic.Fill(1, i, record);
            var status = sender.Send(record, Patience);
            Assert.True(status is RingStatus.Ok or RingStatus.Full, $"{status}");
            if (status == RingStatus.Ok) fitted++;
        }
        Assert.Equal(9, fitted);
        Assert.Equal(new ChannelStatistics(9, 900, 41), sender.Statistics);
        Assert.Equal(new ChannelStatistics(9, 900, 41), receiver.Statistics); // the user process sees the drops too
        for (long i = 0; i < 9; i++)
        {
            Assert.Equal(RingStatus.Ok, receiver.TryReceive(out var got));
            Assert.Equal(i, ChannelTraffic.IndexOf(got)); // the first nine went, in order
        }
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
        Assert.Equal(RingStatus.Ok, sender.Send(record, TimeSpan.Zero)); // room again
        Assert.Equal(41, receiver.Statistics.Dropped);
    }

    [Fact]
    public void Drop_returns_at_once_whatever_the_timeout_and_a_dropped_reservation_is_counted_too()
    {
        using var channel = new TestChannel(TestChannel.Options(256, ChannelOverflowPolicy.Drop));
        var sender = channel.Driver.Sender;
        while (sender.Send(new byte[40], TimeSpan.Zero) == RingStatus.Ok)
        {
        }
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.Full, sender.Send(new byte[40], Patience));
        Assert.Equal(RingStatus.Full, sender.Reserve(40, Patience, out _));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"a dropping send waited {watch.Elapsed}");
        Assert.Equal(3, sender.Statistics.Dropped); // the first that did not fit, then these two
    }

    [Fact]
    public void Block_waits_for_its_timeout_then_gives_the_record_back_uncounted()
    {
        using var channel = new TestChannel(TestChannel.Options(256), FutexDoorbell.Instance);
        var sender = channel.User.Sender;
        while (sender.Send(new byte[40], TimeSpan.Zero) == RingStatus.Ok)
        {
        }
        var before = sender.Statistics;
        Assert.Equal(RingStatus.TimedOut, sender.Send(new byte[40], TimeSpan.Zero));
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.TimedOut, sender.Send(new byte[40], TimeSpan.FromMilliseconds(250)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"the send gave up after {watch.Elapsed}");
        Assert.True(watch.Elapsed < Patience);
        Assert.Equal(before, sender.Statistics);
        Assert.Equal(0, sender.Statistics.Dropped);
    }

    /// <summary>The sender sleeps on the space doorbell (no spinning past 20 µs); the receiver's release wakes it, long before its timeout.</summary>
    [Fact]
    public void Block_sleeps_until_the_receiver_frees_space()
    {
        using var channel = new TestChannel(TestChannel.Options(1024), FutexDoorbell.Instance);
        var (sender, receiver) = channel.Way(ChannelDirection.Down);
        var ring = (nint)channel.Ring(ChannelDirection.Down);
        var sent = 0;
        while (sender.Send(new byte[100], TimeSpan.Zero) == RingStatus.Ok) sent++;
        var outcome = RingStatus.Corrupt;
        var blocked = new Thread(() => outcome = sender.Send(new byte[100], Patience)) { IsBackground = true };
        blocked.Start();
        Assert.True(SpinWait.SpinUntil(() => ProducersSleeping(ring), Patience), "the sender never went to sleep");
        Assert.True(blocked.IsAlive);
        // The receiver's first batched release (a quarter of the ring) wakes the sender, whose record comes last.
        for (var i = 0; i <= sent; i++) Assert.Equal(RingStatus.Ok, receiver.Receive(out _, Patience));
        Assert.True(blocked.Join(Patience), "the sender was not woken");
        Assert.Equal(RingStatus.Ok, outcome);
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
        Assert.Equal(new ChannelStatistics(sent + 1, 100L * (sent + 1), 0), receiver.Statistics);
    }

    [Fact]
    public void Cancel_ends_a_blocked_send_and_a_waiting_receive()
    {
        using var channel = new TestChannel(TestChannel.Options(256), FutexDoorbell.Instance);
        var sender = channel.User.Sender;
        while (sender.Send(new byte[40], TimeSpan.Zero) == RingStatus.Ok)
        {
        }
        var sent = RingStatus.Ok;
        var received = RingStatus.Ok;
        var sending = new Thread(() => sent = sender.Send(new byte[40], Patience)) { IsBackground = true };
        var receiving = new Thread(() => received = channel.User.Receiver.Receive(out _, Patience)) { IsBackground = true };
        sending.Start();
        receiving.Start();
        Thread.Sleep(100);
        var watch = Stopwatch.StartNew();
        channel.User.Cancel(); // the owner learnt the driver is gone
        Assert.True(sending.Join(Patience) && receiving.Join(Patience));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"cancelling took {watch.Elapsed}");
        Assert.Equal((RingStatus.Cancelled, RingStatus.Cancelled), (sent, received));
    }

    [Fact]
    public void A_receive_times_out_on_nothing_and_stalls_on_a_record_never_committed()
    {
        using var channel = new TestChannel(TestChannel.Options(4096), FutexDoorbell.Instance);
        var (sender, receiver) = channel.Way(ChannelDirection.Up);
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.TimedOut, receiver.Receive(out _, TimeSpan.FromMilliseconds(200)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(200), $"the wait gave up after {watch.Elapsed}");
        Assert.Equal(RingStatus.Ok, sender.Reserve(10, Patience, out _)); // never committed
        watch.Restart();
        Assert.Equal(RingStatus.Stalled, receiver.Receive(out _, TimeSpan.FromMilliseconds(200)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(200), $"the wait gave up after {watch.Elapsed}");
    }

    private static bool ProducersSleeping(nint ring) => Volatile.Read(ref ((RingHeader*)ring)->ProducersSleeping) != 0;
}
