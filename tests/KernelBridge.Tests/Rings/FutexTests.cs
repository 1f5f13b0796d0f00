using System.Diagnostics;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// futex_waitv over shared words: what lets one kernel thread sleep on many clients' rings at once
/// (<see cref="RingReader.PrepareToSleep"/> on each, one wait for all, <see cref="RingReader.FinishSleep"/>).
/// </summary>
public sealed unsafe class FutexTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static Libc.FutexWaiter On(nint word, uint expected) => Libc.FutexWaiter.On((uint*)word, expected);

    [Fact]
    public void Waiting_on_several_words_returns_the_one_that_was_woken()
    {
        using var memory = SharedMemory.Create("kb-futex", 4096);
        var words = new[] { (nint)memory.Pointer, (nint)(memory.Pointer + 64), (nint)(memory.Pointer + 128) };
        var woken = int.MinValue;
        var waiter = new Thread(() => woken = Libc.FutexWaitMany([On(words[0], 0), On(words[1], 0), On(words[2], 0)], 30_000)) { IsBackground = true };
        waiter.Start();
        // The value stays 0, so the wait cannot miss: keep waking the third word until the waiter is out.
        var watch = Stopwatch.StartNew();
        while (!waiter.Join(1) && watch.Elapsed < Patience) Libc.FutexWake((uint*)words[2], 1);
        Assert.False(waiter.IsAlive, "the waiter was never woken");
        Assert.Equal(2, woken);
    }

    [Fact]
    public void A_word_that_no_longer_holds_its_value_returns_at_once_and_a_quiet_wait_times_out()
    {
        using var memory = SharedMemory.Create("kb-futex", 4096);
        *(uint*)(memory.Pointer + 64) = 5;
        var words = new[] { (nint)memory.Pointer, (nint)(memory.Pointer + 64) };
        Assert.Equal(-Libc.EAGAIN, Libc.FutexWaitMany([On(words[0], 0), On(words[1], 4)], 30_000));

        var watch = Stopwatch.StartNew();
        Assert.Equal(-Libc.ETIMEDOUT, Libc.FutexWaitMany([On(words[0], 0), On(words[1], 5)], 100));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(95), $"returned after {watch.Elapsed}");
    }

    /// <summary>
    /// One thread sleeps on two rings at once; a producer in another process writes to the second
    /// one and rings its doorbell: the wait returns that ring's index and the record is there.
    /// </summary>
    [Fact]
    public void One_thread_sleeping_on_two_rings_is_woken_by_a_producer_in_another_process()
    {
        using var quiet = new TestRing(TestRing.Options(4096, multiProducer: false), FutexDoorbell.Instance);
        using var busy = new TestRing(TestRing.Options(4096, multiProducer: false), FutexDoorbell.Instance);
        using var child = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "ring", "wake", busy.Memory.ProcPath);
        Assert.True(child.WaitForLine("ready", Patience), child.Output);

        Assert.Equal(RingStatus.Empty, quiet.Reader.PrepareToSleep(out var quietSignal));
        Assert.Equal(RingStatus.Empty, busy.Reader.PrepareToSleep(out var busySignal));
        child.Process.StandardInput.WriteLine("go");
        child.Process.StandardInput.Flush();
        var woken = Libc.FutexWaitMany([Libc.FutexWaiter.On(quiet.Reader.DataSignal, quietSignal), Libc.FutexWaiter.On(busy.Reader.DataSignal, busySignal)], (int)Patience.TotalMilliseconds);
        quiet.Reader.FinishSleep();
        busy.Reader.FinishSleep();

        // 1: woken on the busy ring's word; -EAGAIN: the producer rang before we slept (the word had moved). Either way, not a timeout.
        Assert.True(woken == 1 || woken == -Libc.EAGAIN, $"futex_waitv returned {woken}; the producer said:{Environment.NewLine}{child.Output}");
        Assert.Equal(busySignal + 1, busy.DataSignal);
        Assert.Equal(RingStatus.Ok, busy.Reader.WaitForData(Patience));
        Assert.Equal(RingStatus.Ok, busy.Reader.TryRead(out var record));
        Assert.Equal(7, record.Type);
        Assert.Equal(RingStatus.Empty, quiet.Reader.TryRead(out _));
        Assert.Equal(quietSignal, quiet.DataSignal);
    }
}
