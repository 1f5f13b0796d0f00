using System.Diagnostics;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The page of the two raw shared-memory ping-pongs, as each process maps it: a memfd the bench
/// creates and its peer opens by /proc path. The bench writes a 64-byte message and moves the PING
/// word to the round's number; the peer copies the message to the reply and moves PONG to the same
/// number. Each word and each message has a cache line of its own, so only what is handed over
/// travels between cores. Every wait is bounded: a side that gives up says so instead of hanging.
/// </summary>
internal sealed unsafe class SharedPingPong : IDisposable
{
    public const int MessageBytes = BaselineMeasurements.PingPongBytes;

    private const int PageBytes = 4096;
    private const int PingOffset = 0;
    private const int MessageOffset = 64;
    private const int PongOffset = 128;
    private const int ReplyOffset = 192;

    /// <summary>
    /// Polls between two Thread.Yield calls (a few µs), as the shared-memory gate does: a round trip
    /// that keeps up ends well before the first, and a side whose partner waits for this very vCPU
    /// (a busy machine) lets it run soon.
    /// </summary>
    private const int YieldEvery = 64;

    /// <summary>How long a side waits politely (Thread.Yield) before it sleeps between polls: the other side is idle, not late.</summary>
    private static readonly TimeSpan YieldFor = TimeSpan.FromMilliseconds(10);

    /// <summary>One FUTEX_WAIT at most, so that a sleeper re-checks its deadline.</summary>
    private const int FutexSliceMilliseconds = 100;

    private readonly SharedMemory _memory;
    private uint _round;

    private SharedPingPong(SharedMemory memory) => _memory = memory;

    /// <summary>The path the peer opens: /proc/PID/fd/N of this process's memfd.</summary>
    public string Path => _memory.ProcPath;

    private uint* Ping => (uint*)(_memory.Pointer + PingOffset);
    private uint* Pong => (uint*)(_memory.Pointer + PongOffset);
    private Span<byte> Message => new(_memory.Pointer + MessageOffset, MessageBytes);
    private Span<byte> Reply => new(_memory.Pointer + ReplyOffset, MessageBytes);

    /// <summary>A new zero-filled page (the bench's side).</summary>
    public static SharedPingPong Create()
    {
        try
        {
            return new(SharedMemory.Create("kbridge-bench-pingpong", PageBytes));
        }
        catch (IOException e)
        {
            throw new BenchFailedException($"cannot create the ping-pong page: {e.Message}");
        }
    }

    /// <summary>The bench's page, mapped by path (the peer's side).</summary>
    public static SharedPingPong Open(string path) =>
        new(SharedMemory.TryOpen(path, PageBytes, out var error) ?? throw new BenchFailedException($"cannot map the ping-pong page {path}: {error}"));

    /// <summary>The bench's side of one round: the message out, the reply back into <paramref name="reply"/>. False if the peer did not answer within <paramref name="timeout"/>.</summary>
    public bool RoundTrip(ReadOnlySpan<byte> message, Span<byte> reply, PingPongWay way, TimeSpan timeout)
    {
        var round = ++_round;
        message.CopyTo(Message);
        Signal(Ping, round, way);
        if (!Await(Pong, round, way, timeout)) return false;
        Reply.CopyTo(reply);
        return true;
    }

    /// <summary>The peer's side of one round: waits for the next message and sends it back. False if none came within <paramref name="timeout"/>.</summary>
    public bool Answer(PingPongWay way, TimeSpan timeout)
    {
        var round = ++_round;
        if (!Await(Ping, round, way, timeout)) return false;
        Message.CopyTo(Reply);
        Signal(Pong, round, way);
        return true;
    }

    /// <summary>Publishes the round (after the message, which the volatile write orders); a sleeper is woken.</summary>
    private static void Signal(uint* word, uint round, PingPongWay way)
    {
        Volatile.Write(ref *word, round);
        if (way == PingPongWay.Futex) Libc.FutexWake(word, 1);
    }

    private static bool Await(uint* word, uint round, PingPongWay way, TimeSpan timeout) =>
        way == PingPongWay.Futex ? Sleep(word, round, timeout) : Poll(word, round, timeout);

    /// <summary>
    /// Spins until the word holds the round. No clock is read while the other side keeps up; a late
    /// one (its thread descheduled, or idle) is given the vCPU with Thread.Yield, after 10 ms with 1 ms sleeps.
    /// </summary>
    private static bool Poll(uint* word, uint round, TimeSpan timeout)
    {
        var spins = 0;
        long lateSince = 0;
        while (Volatile.Read(ref *word) != round)
        {
            Thread.SpinWait(1);
            if (++spins % YieldEvery != 0) continue;
            if (lateSince == 0) lateSince = Stopwatch.GetTimestamp();
            var late = Stopwatch.GetElapsedTime(lateSince);
            if (late > timeout) return false;
            if (late < YieldFor) Thread.Yield();
            else Thread.Sleep(1);
        }
        return true;
    }

    /// <summary>Sleeps in FUTEX_WAIT while the word holds what it held; early returns (EAGAIN, EINTR) re-check it.</summary>
    private static bool Sleep(uint* word, uint round, TimeSpan timeout)
    {
        var slices = (long)Math.Ceiling(timeout.TotalMilliseconds / FutexSliceMilliseconds);
        uint seen;
        while ((seen = Volatile.Read(ref *word)) != round)
        {
            if (--slices < 0) return false;
            Libc.FutexWait(word, seen, FutexSliceMilliseconds);
        }
        return true;
    }

    public void Dispose() => _memory.Dispose();
}
