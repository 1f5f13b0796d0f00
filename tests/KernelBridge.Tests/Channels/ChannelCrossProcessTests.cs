using System.Diagnostics;
using System.Globalization;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.TestClient;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// A channel between the test (the driver's side) and a `test-client channel` child (the user
/// process's side) that maps the test's memfd by /proc/PID/fd/N, with the futex doorbell: records
/// of 1 byte to 64 KiB across hundreds of wrap-arounds each way, both ways at once, a dropping
/// sender, and senders SIGKILLed mid-record. Every record is checked byte by byte; every wait is
/// bounded; children are killed by pid when the test ends, whatever happened.
/// </summary>
public sealed unsafe class ChannelCrossProcessTests
{
    private const int Capacity = 256 * 1024;
    private const int MaxRecord = 64 * 1024;
    private const long Records = 20_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static ChannelOptions Options(ChannelOverflowPolicy policy = ChannelOverflowPolicy.Block, int capacity = Capacity, int maxRecord = MaxRecord) =>
        TestChannel.Options(capacity, policy, maxRecord);

    [Fact]
    public void Records_sent_up_by_another_process_arrive_intact_across_many_wrap_arounds()
    {
        using var channel = new TestChannel(Options(), FutexDoorbell.Instance, attachUser: false);
        using var child = Start(channel, "send", "3", Records.ToString(CultureInfo.InvariantCulture));
        var error = ChannelTraffic.Receive(channel.Driver.Receiver, 3, 0, Records, Patience, out var sum);
        Assert.True(error is null, $"{error}; the sender said:{Environment.NewLine}{child.Output}");
        Assert.Equal(sum, Reported(child, "sent"));
        Assert.Equal(RingStatus.Empty, channel.Driver.Receiver.TryReceive(out _));
        Assert.True(channel.Ring(ChannelDirection.Up)->Tail > 100L * Capacity, "the ring did not wrap around many times");
        Assert.Equal(Records, channel.Driver.Receiver.Statistics.Records);
    }

    [Fact]
    public void Records_sent_down_arrive_intact_in_another_process()
    {
        using var channel = new TestChannel(Options(), FutexDoorbell.Instance, attachUser: false);
        using var child = Start(channel, "receive", "4", Records.ToString(CultureInfo.InvariantCulture));
        var error = ChannelTraffic.Send(channel.Driver.Sender, 4, 0, Records, Patience, out var sum);
        Assert.True(error is null, $"{error}; the receiver said:{Environment.NewLine}{child.Output}");
        Assert.Equal(sum, Reported(child, "received"));
        Assert.True(channel.Ring(ChannelDirection.Down)->Tail > 100L * Capacity, "the ring did not wrap around many times");
    }

    /// <summary>The test sends down from one thread and receives up on another while the child sends every record back: both rings full-duplex, both processes busy.</summary>
    [Fact]
    public void Records_echoed_by_another_process_come_back_intact_both_ways_at_once()
    {
        using var channel = new TestChannel(Options(), FutexDoorbell.Instance, attachUser: false);
        using var child = Start(channel, "echo", Records.ToString(CultureInfo.InvariantCulture));
        string? sendError = "never ran";
        ulong sentSum = 0;
        var sending = new Thread(() => sendError = ChannelTraffic.Send(channel.Driver.Sender, 5, 0, Records, Patience, out sentSum)) { IsBackground = true };
        sending.Start();
        var error = ChannelTraffic.Receive(channel.Driver.Receiver, 5, 0, Records, Patience, out var receivedSum);
        Assert.True(sending.Join(Patience), "the sending thread did not finish");
        Assert.True(error is null && sendError is null, $"receiving: {error}; sending: {sendError}; the child said:{Environment.NewLine}{child.Output}");
        Assert.Equal(sentSum, receivedSum);
        Assert.Equal($"echoed {Records}", ReportedLine(child, "echoed"));
    }

    /// <summary>
    /// The child floods a small Drop ring without waiting while the test reads only once drops have
    /// begun: every record that arrives is intact and in order, and the header's dropped count is
    /// exactly what the child counted and exactly what did not arrive.
    /// </summary>
    [Fact]
    public void A_dropping_sender_in_another_process_counts_exactly_the_records_that_did_not_arrive()
    {
        const long Flood = 100_000;
        const int SmallRecord = 2048;
        using var channel = new TestChannel(Options(ChannelOverflowPolicy.Drop, 64 * 1024, SmallRecord), FutexDoorbell.Instance, attachUser: false);
        var receiver = channel.Driver.Receiver;
        using var child = Start(channel, "flood", "6", Flood.ToString(CultureInfo.InvariantCulture));
        Assert.True(SpinWait.SpinUntil(() => receiver.Statistics.Dropped > 0 || child.Process.HasExited, Patience), "nothing was dropped");
        long received = 0;
        long last = -1;
        while (true)
        {
            var status = receiver.Receive(out var record, TimeSpan.FromMilliseconds(200));
            if (status == RingStatus.TimedOut && child.Process.HasExited) break;
            if (status == RingStatus.TimedOut) continue;
            Assert.Equal(RingStatus.Ok, status);
            var index = ChannelTraffic.IndexOf(record);
            Assert.True(index > last && index < Flood, $"record {index} after {last}");
            Assert.True(ChannelTraffic.Matches(6, index, SmallRecord, record, ChannelTraffic.SequenceLength), $"record {index} is not what was sent");
            last = index;
            received++;
        }
        var words = ReportedLine(child, "sent").Split(' ');
        var (sent, dropped) = (long.Parse(words[1], CultureInfo.InvariantCulture), long.Parse(words[3], CultureInfo.InvariantCulture));
        Assert.Equal(Flood, sent + dropped);
        Assert.Equal(sent, received);
        Assert.True(dropped > 0);
        Assert.Equal(new ChannelStatistics(sent, receiver.Statistics.Bytes, dropped), receiver.Statistics);
    }

    /// <summary>
    /// The child commits 100 records (the test receives them), reserves a 64 KiB one, fills half of
    /// it with 0xEE and says so; the test SIGKILLs it there. The driver gets the 100, then "stalled" after its timeout (no
    /// garbage, no hang); told the sender is dead, it skips the abandoned record, and a new user
    /// process attached to the same channel carries on, every record intact.
    /// </summary>
    [Fact]
    public void A_sender_killed_mid_record_stalls_the_receiver_which_skips_it_and_carries_on_with_a_new_sender()
    {
        using var channel = new TestChannel(Options(), FutexDoorbell.Instance, attachUser: false);
        var receiver = channel.Driver.Receiver;
        using (var child = Start(channel, "hang", "7", "100"))
        {
            // The 100 are more than the ring holds: received while the child sends them.
            var error = ChannelTraffic.Receive(receiver, 7, 0, 100, Patience, out var sum);
            Assert.True(error is null, $"{error}; the sender said:{Environment.NewLine}{child.Output}");
            Assert.True(child.WaitForLine("reserved", Patience), child.Output);
            child.Kill();
            Assert.True(child.Process.HasExited, "the sender is still alive");
            Assert.Equal(sum, Reported(child, "reserved"));
        }
        Assert.Equal(RingStatus.Pending, receiver.TryReceive(out _));
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.Stalled, receiver.Receive(out _, TimeSpan.FromMilliseconds(300)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(300), $"the wait gave up after {watch.Elapsed}");
        Assert.Equal(RingStatus.Ok, receiver.TrySkipAbandoned());
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));

        using var successor = Start(channel, "send", "8", "1000");
        var carriedOn = ChannelTraffic.Receive(receiver, 8, 0, 1000, Patience, out var successorSum);
        Assert.True(carriedOn is null, $"{carriedOn}; the new sender said:{Environment.NewLine}{successor.Output}");
        Assert.Equal(successorSum, Reported(successor, "sent"));
        Assert.Equal(RingStatus.Empty, receiver.TryReceive(out _));
    }

    /// <summary>
    /// A sender streaming flat out is killed at a random moment, three times. The receiver gets an
    /// unbroken run of intact records, then "timed out" (killed between records) or "stalled"
    /// (killed mid-record, which it skips); a new sender then carries on. Only a sender killed
    /// between claiming space and marking it may leave a ring that must be given up ("stalled"
    /// again from the skip): allowed, never garbage.
    /// </summary>
    [Fact]
    public void A_sender_killed_at_a_random_moment_never_leaves_the_receiver_garbage_or_a_hang()
    {
        var random = new Random(9);
        for (var round = 0; round < 3; round++)
        {
            using var channel = new TestChannel(Options(), FutexDoorbell.Instance, attachUser: false);
            var receiver = channel.Driver.Receiver;
            long received = 0;
            var ended = RingStatus.Ok;
            string? garbage = null;
            var receiving = new Thread(() =>
            {
                while ((ended = receiver.Receive(out var record, TimeSpan.FromMilliseconds(500))) == RingStatus.Ok)
                {
                    if (!ChannelTraffic.Matches(10, received, MaxRecord, record)) garbage ??= $"record {received} is not what was sent";
                    received++;
                }
            }) { IsBackground = true };
            using (var child = Start(channel, "stream", "10"))
            {
                receiving.Start();
                Assert.True(child.WaitForLine("streaming", Patience), child.Output);
                Thread.Sleep(random.Next(1, 40));
                child.Kill();
            }
            Assert.True(receiving.Join(Patience), "the receiver hung");
            Assert.Null(garbage);
            Assert.True(received >= 1000, $"only {received} records arrived");
            Assert.True(ended is RingStatus.TimedOut or RingStatus.Stalled, $"{ended}");
            var skipped = receiver.TrySkipAbandoned();
            Assert.True(skipped is RingStatus.Ok or RingStatus.Empty or RingStatus.Stalled, $"{skipped}");
            Assert.Equal(ended == RingStatus.Stalled, skipped != RingStatus.Empty);
            if (skipped == RingStatus.Stalled) continue; // died between claim and mark: this ring is given up

            using var successor = Start(channel, "send", "11", "500");
            var carriedOn = ChannelTraffic.Receive(receiver, 11, 0, 500, Patience, out _);
            Assert.True(carriedOn is null, $"round {round}: {carriedOn}; the new sender said:{Environment.NewLine}{successor.Output}");
        }
    }

    private static ChildProcess Start(TestChannel channel, string mode, params string[] arguments) =>
        ChildProcess.StartDll("KernelBridge.TestClient.dll", null, ["channel", mode, channel.Memory.ProcPath, .. arguments]);

    /// <summary>The checksum the child printed after <paramref name="word"/>.</summary>
    private static ulong Reported(ChildProcess child, string word) =>
        ulong.Parse(ReportedLine(child, word)[(word.Length + 1)..], CultureInfo.InvariantCulture);

    /// <summary>The line the child printed starting with <paramref name="word"/>, once its output is all in.</summary>
    private static string ReportedLine(ChildProcess child, string word)
    {
        Assert.True(child.WaitForExit(Patience) || word == "reserved", $"the child did not finish; it said:{Environment.NewLine}{child.Output}");
        if (child.Process.HasExited) child.Process.WaitForExit(); // it has exited: this only waits for the last of its output
        var line = child.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(word + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"the child never said {word}; it said:{Environment.NewLine}{child.Output}");
        return line;
    }
}
