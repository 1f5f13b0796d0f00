using System.Diagnostics;
using System.Globalization;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.TestClient;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// The ring between two processes: a test client maps the test's memfd (by /proc/PID/fd/N) and
/// produces or consumes; random sizes, many wrap-arounds, every record checked and the checksums
/// compared. A producer killed while it holds a reserved record leaves the reader no garbage, only
/// a clean "stalled". The futex doorbell wakes a sleeping reader from the other process. Children
/// are killed by pid when the test ends, whatever happened.
/// </summary>
public sealed class RingCrossProcessTests
{
    private const ulong Seed = 7;
    private const long Records = 200_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Records_produced_in_another_process_arrive_intact_across_many_wrap_arounds()
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer: false, maxPayload: 512), FutexDoorbell.Instance);
        using var child = StartRing("produce", ring, Seed.ToString(CultureInfo.InvariantCulture), Records.ToString(CultureInfo.InvariantCulture));
        var error = RingTraffic.Consume(ring.Reader, Seed, Records, Patience, out var sum);
        Assert.True(error is null, $"{error}; the producer said:{Environment.NewLine}{child.Output}");
        Assert.Equal(sum, Reported(child, "sent"));
        Assert.Equal(RingStatus.Empty, ring.Reader.TryRead(out _));
        Assert.True(ring.Tail > 100L * 4096, "the ring did not wrap around many times");
    }

    [Fact]
    public void Records_consumed_in_another_process_arrive_intact_across_many_wrap_arounds()
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer: false, maxPayload: 512), FutexDoorbell.Instance);
        using var child = StartRing("consume", ring, Seed.ToString(CultureInfo.InvariantCulture), Records.ToString(CultureInfo.InvariantCulture));
        var error = RingTraffic.Produce(ring.Writer, Seed, Records, Patience, out var sum);
        Assert.True(error is null, $"{error}; the consumer said:{Environment.NewLine}{child.Output}");
        Assert.Equal(sum, Reported(child, "received"));
    }

    /// <summary>
    /// The child commits 100 records, reserves a 101st, fills half of it with 0xEE and says so; the
    /// test SIGKILLs it there. The reader delivers the 100, then only "pending", then "stalled"
    /// after its timeout; told the producer is dead, it skips the abandoned record, and the ring
    /// carries on with another producer's records (it is a multi-producer ring: the test writes too).
    /// </summary>
    [Fact]
    public void A_producer_killed_mid_record_leaves_no_garbage_and_the_reader_reports_the_stall()
    {
        using var ring = new TestRing(TestRing.Options(8192, multiProducer: true, maxPayload: 256), FutexDoorbell.Instance);
        var reader = ring.Reader;
        var maxPayload = reader.Geometry.MaxPayloadLength;
        ulong sum = 0;
        using (var child = StartRing("hang", ring, Seed.ToString(CultureInfo.InvariantCulture), "100"))
        {
            Assert.True(child.WaitForLine("reserved", Patience), child.Output);
            child.Kill();
            Assert.True(child.Process.HasExited, "the producer is still alive");
            for (long i = 0; i < 100; i++)
            {
                Assert.Equal(RingStatus.Ok, reader.TryRead(out var record));
                Assert.True(RingTraffic.Matches(Seed, i, maxPayload, record.Type, record.Payload), $"record {i} is not what was sent");
                sum = RingTraffic.Checksum(sum, record.Type, record.Payload);
            }
            Assert.Equal(sum, Reported(child, "reserved"));
        }
        Assert.Equal(RingStatus.Pending, reader.TryRead(out _));
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.Stalled, reader.WaitForData(TimeSpan.FromMilliseconds(300)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(300), $"the wait gave up after {watch.Elapsed}");
        Assert.Equal(RingStatus.Pending, reader.TryRead(out _));

        Assert.Equal(RingStatus.Ok, ring.Writer.TryWrite(12345, "after the dead one"u8));
        Assert.Equal(RingStatus.Ok, reader.TrySkipAbandoned());
        Assert.Equal(RingStatus.Ok, reader.TryRead(out var survivor));
        Assert.Equal(12345, survivor.Type);
        Assert.Equal("after the dead one"u8.ToArray(), survivor.Payload.ToArray());
        Assert.Equal(RingStatus.Empty, reader.TryRead(out _));
        reader.Release();
    }

    [Fact]
    public void A_single_producer_killed_mid_record_stalls_the_reader_which_can_then_be_cancelled()
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer: false, maxPayload: 256), FutexDoorbell.Instance);
        using (var child = StartRing("hang", ring, Seed.ToString(CultureInfo.InvariantCulture), "3"))
        {
            Assert.True(child.WaitForLine("reserved", Patience), child.Output);
            child.Kill();
        }
        for (var i = 0; i < 3; i++) Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out _));
        Assert.Equal(RingStatus.Stalled, ring.Reader.WaitForData(TimeSpan.FromMilliseconds(100)));
        ring.Reader.Cancel(); // the owner learnt the producer is dead (its socket hung up)
        Assert.Equal(RingStatus.Cancelled, ring.Reader.WaitForData(Patience));
    }

    /// <summary>
    /// The reader sleeps on the futex (no spinning); only then does the test tell the other process
    /// to write. The producer sees the sleeping flag and rings the doorbell exactly once (the signal
    /// word moves by one), which wakes the reader.
    /// </summary>
    [Fact]
    public void A_sleeping_reader_is_woken_by_a_producer_in_another_process()
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer: false), FutexDoorbell.Instance);
        ring.Reader.SpinTime = TimeSpan.Zero;
        using var child = StartRing("wake", ring);
        var signal = ring.DataSignal;
        var waited = RingStatus.Corrupt;
        var waiter = new Thread(() => waited = ring.Reader.WaitForData(Patience)) { IsBackground = true };
        waiter.Start();
        Assert.True(SpinWait.SpinUntil(() => ring.ConsumerSleeping != 0, Patience), "the reader never went to sleep");
        child.Process.StandardInput.WriteLine("go");
        child.Process.StandardInput.Flush();
        Assert.True(waiter.Join(Patience + Patience), "the reader's wait did not end");
        Assert.True(waited == RingStatus.Ok, $"{waited}; the producer said:{Environment.NewLine}{child.Output}");
        Assert.Equal(RingStatus.Ok, ring.Reader.TryRead(out var record));
        Assert.Equal((7, "wake up"), (record.Type, System.Text.Encoding.ASCII.GetString(record.Payload)));
        Assert.Equal(signal + 1, ring.DataSignal);
        Assert.Equal(0, ring.ConsumerSleeping);
    }

    [Fact]
    public void A_reader_whose_producer_never_comes_back_returns_after_its_timeout()
    {
        using var ring = new TestRing(TestRing.Options(4096, multiProducer: false), FutexDoorbell.Instance);
        ring.Reader.SpinTime = TimeSpan.FromMicroseconds(50);
        using (var child = StartRing("wake", ring))
            child.Kill(); // it said "ready": attached, and it dies before it writes anything
        var watch = Stopwatch.StartNew();
        Assert.Equal(RingStatus.TimedOut, ring.Reader.WaitForData(TimeSpan.FromMilliseconds(250)));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"the wait gave up after {watch.Elapsed}");
        Assert.True(watch.Elapsed < Patience);
        Assert.Equal(0, ring.ConsumerSleeping);
    }

    private static ChildProcess StartRing(string mode, TestRing ring, params string[] arguments)
    {
        var child = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, ["ring", mode, ring.Memory.ProcPath, .. arguments]);
        var ready = mode switch { "wake" => "ready", _ => null };
        if (ready is not null && !child.WaitForLine(ready, Patience))
        {
            child.Kill();
            child.Process.WaitForExit(); // the last of its output
            var output = child.Output;
            var code = child.Process.ExitCode;
            child.Dispose();
            Assert.Fail($"ring {mode} never said {ready}; exit code {code}, output:{Environment.NewLine}{output}");
        }
        return child;
    }

    /// <summary>The checksum the child printed after <paramref name="word"/>, once it has exited and its output is all in.</summary>
    private static ulong Reported(ChildProcess child, string word)
    {
        Assert.True(child.WaitForExit(Patience), $"the child did not finish; it said:{Environment.NewLine}{child.Output}");
        child.Process.WaitForExit(); // it has exited: this only waits for the last of its output to be read
        var line = child.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(word + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"the child never said {word}; it said:{Environment.NewLine}{child.Output}");
        return ulong.Parse(line[(word.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
