using System.Diagnostics;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate.Shared;

/// <summary>
/// The one thread that serves every shared-memory client: it reads each submission ring in turn
/// and serves the calls it finds, spins a little while work keeps coming (so a client's next call
/// finds it awake), and otherwise sleeps in one futex_waitv on all the rings' doorbells at once,
/// so an idle kernel uses no CPU. A call that blocks inside a driver must not hold up everyone
/// else: a watchdog sees the poller stuck in one call and starts another poller; the stuck one
/// leaves when its call returns.
/// </summary>
internal sealed unsafe partial class SubmissionPoller : IDisposable
{
    /// <summary>The most shared-memory clients (futex_waitv waits on at most 128 words; later clients get the socket gate).</summary>
    public const int MaxSessions = 120;

    /// <summary>How long the poller spins after its last call before it sleeps: longer than a wake-up on these VMs (about 20 µs).</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(50);

    private static readonly TimeSpan WatchdogPeriod = TimeSpan.FromMilliseconds(25);

    /// <summary>A client that made a call this recently is busy; how often the poller counts them.</summary>
    private static readonly long ActiveTicks = Stopwatch.Frequency * 2 / 1000;
    private static readonly long AdviceTicks = Stopwatch.Frequency / 1000;

    /// <summary>How long the poller spins while several clients are busy.</summary>
    private static readonly long CrowdedSpinTicks = Stopwatch.Frequency / 1000;
    private const int SleepMilliseconds = 1000;

    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<SharedSession> _sessions = [];
    private readonly List<TaskCompletionSource> _detached = [];
    // The poller's own futex word (pinned): attach, detach, resume and stop bump it.
    private readonly uint[] _control = GC.AllocateArray<uint>(16, pinned: true);
    private readonly Timer _watchdog;
    private SharedSession[] _snapshot = [];
    private int _version;
    private int _generation;
    private int _sleeping;
    private volatile bool _stopping;
    private PollerState? _current;
    private int _lastSeenServing;
    // Under _lock: the watchdog timer runs (only while a poller is awake: an idle kernel takes no timer ticks).
    private bool _watchdogArmed;
    // Which busy client may spin next (the poller's own; several pollers only ever race on fairness).
    private int _spinToken;

    private sealed class PollerState(int generation)
    {
        public readonly int Generation = generation;
        public int Serving;
    }

    public SubmissionPoller(ILogger logger)
    {
        _logger = logger;
        _watchdog = new Timer(_ => CheckProgress());
    }

    /// <summary>True if this system can multiplex futex sleeps (Linux 5.16 and later).</summary>
    public static bool Supported => Libc.HasFutexWaitMany;

    public int SessionCount
    {
        get
        {
            lock (_lock) return _sessions.Count;
        }
    }

    /// <summary>Starts serving a session; false if the poller already serves as many as it can.</summary>
    public bool TryAttach(SharedSession session)
    {
        lock (_lock)
        {
            if (_stopping || _sessions.Count >= MaxSessions) return false;
            _sessions.Add(session);
            Publish();
            if (_current is null) StartPoller();
            ArmWatchdog();
        }
        Wake();
        return true;
    }

    /// <summary>Stops serving a session; the task ends once no poller looks at its rings any more (then its area may go).</summary>
    public Task DetachAsync(SharedSession session)
    {
        session.Detached = true;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (!_sessions.Remove(session) || _current is null) return Task.CompletedTask;
            _detached.Add(done);
            Publish();
            if (_sessions.Count == 0) DisarmWatchdog();
        }
        Wake();
        return done.Task;
    }

    /// <summary>Makes a sleeping poller look again (cheap when it is awake: a fence and a load).</summary>
    public void Wake()
    {
        fixed (uint* control = _control)
        {
            Interlocked.Increment(ref *control);
            if (Volatile.Read(ref _sleeping) != 0) Libc.FutexWake(control, int.MaxValue);
        }
    }

    private void Publish()
    {
        _snapshot = [.. _sessions];
        _version++;
    }

    private void StartPoller()
    {
        var state = new PollerState(++_generation);
        _current = state;
        new Thread(() => Run(state)) { IsBackground = true, Name = $"KernelBridge poller {state.Generation}" }.Start();
    }

    private void Run(PollerState state)
    {
        var buffer = new byte[RingLayout.MaxPayloadFor(SyscallAreaLayout.SubmissionCapacity)];
        var prepared = new SharedSession[MaxSessions];
        var sessions = Array.Empty<SharedSession>();
        var seenVersion = -1;
        var lastWork = 0L;
        var lastAdvice = 0L;
        var spin = false;
        var spins = 0;
        var rounds = 0;
        var quietSpin = (long)(SpinTime.TotalSeconds * Stopwatch.Frequency);
        var spinTicks = quietSpin;
        while (!_stopping && Volatile.Read(ref _generation) == state.Generation)
        {
            if (Volatile.Read(ref _version) != seenVersion) sessions = TakeSnapshot(ref seenVersion);
            var served = 0;
            var spinWanted = false;
            // The clock costs tens of ns on a VM: read it when something was served, and every 64 rounds for the advice.
            var now = (++rounds & 63) == 0 ? Stopwatch.GetTimestamp() : 0;
            if (now != 0 && now - lastAdvice >= AdviceTicks)
            {
                // Busy clients (who no longer spin) come back after a wake-up each, and a sleep over many rings costs
                // a flag and a futex per ring: then the poller, the one spinner, spins longer.
                spinTicks = Advise(sessions, now) ? CrowdedSpinTicks : quietSpin;
                lastAdvice = now;
            }
            foreach (var session in sessions)
            {
                if (session.Completions.WantsSpace) session.Completions.Drain(out _, out _);
                var count = session.Pump(buffer, ref state.Serving);
                if (Volatile.Read(ref _generation) != state.Generation)
                {
                    // Replaced while a call held us: the new poller carries on; make sure it looks at this client again.
                    Wake();
                    return;
                }
                if (count == 0) continue;
                if (now == 0) now = Stopwatch.GetTimestamp();
                session.LastActive = now;
                served += count;
                spinWanted |= session.Spins;
            }
            if (served > 0)
            {
                lastWork = now;
                spin = spinWanted;
                spins = 0;
                continue;
            }
            if (spin && ((++spins & 15) != 0 || Stopwatch.GetTimestamp() - lastWork < spinTicks))
            {
                // At most one spinning thread on this side, and it gives way now and then to whoever shares its core.
                if ((spins & 63) == 0) Thread.Yield();
                else Thread.SpinWait(1);
                continue;
            }
            spin = false;
            Sleep(sessions, prepared, seenVersion);
            // Awake again: watch this poller (the watchdog stood down while it slept).
            lock (_lock) ArmWatchdog();
        }
    }

    /// <summary>
    /// True if more than one client is busy. Then only one of them may spin while it waits, in turn
    /// (the token moves every advice period, so none is favoured for long): the poller spins already,
    /// and more spinners than cores burn each other's time slices; but with no spinner at all the
    /// clients' vCPU halts whenever they all sleep, and every wake-up then costs a vCPU's (tens of µs).
    /// </summary>
    private bool Advise(SharedSession[] sessions, long now)
    {
        var busy = 0;
        foreach (var session in sessions)
            if (now - session.LastActive < ActiveTicks) busy++;
        if (busy <= 1)
        {
            foreach (var session in sessions) session.Advise(SpinAdvice.Spin);
            return false;
        }
        var token = (int)((uint)_spinToken++ % (uint)busy);
        foreach (var session in sessions)
        {
            var isBusy = now - session.LastActive < ActiveTicks;
            session.Advise(isBusy && token-- == 0 ? SpinAdvice.Spin : SpinAdvice.Sleep);
        }
        return true;
    }

    private SharedSession[] TakeSnapshot(ref int seenVersion)
    {
        lock (_lock)
        {
            seenVersion = _version;
            // Whatever was detached is out of this snapshot, and this thread touches no ring between
            // snapshots: their areas may go now.
            foreach (var done in _detached) done.TrySetResult();
            _detached.Clear();
            return _snapshot;
        }
    }

    private void Sleep(SharedSession[] sessions, SharedSession[] prepared, int seenVersion)
    {
        Interlocked.Exchange(ref _sleeping, 1);
        fixed (uint* control = _control)
        {
            // Read the control word before looking at anything: a change after this read makes the wait return at once.
            var controlValue = Volatile.Read(ref *control);
            var preparedCount = 0;
            try
            {
                if (Volatile.Read(ref _version) != seenVersion || _stopping) return;
                Span<Libc.FutexWaiter> waiters = stackalloc Libc.FutexWaiter[Libc.MaxFutexWaiters];
                waiters[0] = Libc.FutexWaiter.On(control, controlValue);
                var count = 1;
                var crowded = false;
                foreach (var session in sessions)
                {
                    if (session.Completions.WantsSpace && !session.Completions.Drain(out var space, out var spaceValue))
                    {
                        if (count < waiters.Length) waiters[count++] = Libc.FutexWaiter.On(space, spaceValue);
                        else crowded = true;
                    }
                    var readiness = session.PrepareToSleep(out var word, out var signal);
                    if (readiness == SleepReadiness.Busy) continue;
                    prepared[preparedCount++] = session;
                    if (readiness == SleepReadiness.Ready) return;
                    if (count < waiters.Length) waiters[count++] = Libc.FutexWaiter.On(word, signal);
                    else crowded = true;
                }
                // More words than one wait takes: poll the rest every millisecond rather than miss them.
                Libc.FutexWaitMany(waiters[..count], crowded ? 1 : SleepMilliseconds);
            }
            finally
            {
                for (var i = 0; i < preparedCount; i++)
                {
                    prepared[i].FinishSleep();
                    prepared[i] = null!;
                }
                Volatile.Write(ref _sleeping, 0);
            }
        }
    }

    private void ArmWatchdog()
    {
        if (_watchdogArmed || _sessions.Count == 0 || _stopping) return;
        _watchdogArmed = true;
        _watchdog.Change(WatchdogPeriod, WatchdogPeriod);
    }

    private void DisarmWatchdog()
    {
        _watchdogArmed = false;
        _watchdog.Change(Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The watchdog: a poller that has been inside the same call for a whole period is stuck; start another.</summary>
    private void CheckProgress()
    {
        lock (_lock)
        {
            if (_current is not { } state || _stopping) return;
            if (Volatile.Read(ref _sleeping) != 0)
            {
                // Asleep, so not stuck: stand down until it wakes (it re-arms us, under this lock).
                DisarmWatchdog();
                return;
            }
            var serving = Volatile.Read(ref state.Serving);
            var stuck = (serving & 1) == 1 && serving == _lastSeenServing;
            _lastSeenServing = serving;
            if (!stuck) return;
            LogPollerReplaced(state.Generation, (int)WatchdogPeriod.TotalMilliseconds);
            _lastSeenServing = 0;
            StartPoller();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            DisarmWatchdog();
            foreach (var done in _detached) done.TrySetResult();
            _detached.Clear();
        }
        Wake();
        _watchdog.Dispose();
    }

    [LoggerMessage(EventId = 220, Level = LogLevel.Debug, Message = "poller {Generation} has been inside one call for over {Period} ms (a driver blocked?); another poller serves the rest")]
    private partial void LogPollerReplaced(int generation, int period);
}
