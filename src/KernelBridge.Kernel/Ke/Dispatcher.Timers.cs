using System.Diagnostics;

namespace KernelBridge.Kernel.Ke;

internal sealed partial class Dispatcher
{
    /// <summary>Called with an exception a DPC threw (the I/O manager turns it into a driver fault).</summary>
    public Action<KDpc, Exception>? DpcFaulted { get; set; }

    /// <summary>This kernel as drivers reach it: DPCs run in its scope.</summary>
    public IKernelRuntime? Runtime { get; set; }

    /// <summary>KeSetTimerEx / NtSetTimer: resets the timer to not-signalled and schedules it. True if it was already set.</summary>
    public bool SetTimer(KTimer timer, long dueTime, int periodMilliseconds, KDpc? dpc, KThread? apcThread = null, ulong apcRoutine = 0, ulong apcContext = 0)
    {
        lock (_lock)
        {
            var schedule = timer.Schedule ??= NewSchedule(timer);
            var wasSet = schedule.Set;
            // Setting again takes back a completion routine that fired but has not run.
            ForgetApcUnsynchronized(timer, schedule);
            schedule.Set = true;
            schedule.Period = Math.Max(0, periodMilliseconds);
            schedule.Dpc = dpc;
            schedule.ApcThread = apcRoutine != 0 ? apcThread : null;
            schedule.ApcRoutine = apcRoutine;
            schedule.ApcContext = apcContext;
            if (schedule.ApcThread is { } owner && !owner.ActiveTimers.Contains(timer)) owner.ActiveTimers.Add(timer);
            timer.SignalState = 0;
            schedule.Due = Timeouts.DeadlineOf(dueTime);
            if (schedule.Due == Timeouts.Never) Timeouts.Disarm(schedule.Clock);
            else Timeouts.Arm(schedule.Clock!, schedule.Due);
            return wasSet;
        }
    }

    private KTimerSchedule NewSchedule(KTimer timer)
    {
        var schedule = new KTimerSchedule();
        schedule.Clock = new Timer(static state =>
        {
            var (dispatcher, timer) = ((Dispatcher, KTimer))state!;
            dispatcher.Expire(timer);
        }, (this, timer), Timeout.Infinite, Timeout.Infinite);
        return schedule;
    }

    /// <summary>KeCancelTimer / NtCancelTimer: stops it without touching its signal state. True if it was set.</summary>
    public bool CancelTimer(KTimer timer)
    {
        lock (_lock) return CancelTimerUnsynchronized(timer);
    }

    private static bool CancelTimerUnsynchronized(KTimer timer)
    {
        if (timer.Schedule is not { } schedule) return false;
        var wasSet = schedule.Set;
        ForgetApcUnsynchronized(timer, schedule);
        schedule.Set = false;
        Timeouts.Disarm(schedule.Clock);
        return wasSet;
    }

    /// <summary>KeRemoveQueueApc for the timer's APC, and the timer off its thread's active list.</summary>
    private static void ForgetApcUnsynchronized(KTimer timer, KTimerSchedule schedule)
    {
        if (schedule.ApcThread is not { } thread) return;
        var apcs = thread.UserApcs;
        for (var i = apcs.Count - 1; i >= 0; i--)
            if (ReferenceEquals(apcs[i].Timer, timer)) apcs.RemoveAt(i);
        thread.ActiveTimers.Remove(timer);
        schedule.ApcThread = null;
    }

    private void Expire(KTimer timer)
    {
        KDpc? dpc = null;
        KThread? apcThread = null;
        ulong routine = 0, context = 0;
        var wakes = new Wakes();
        lock (_lock)
        {
            // A late tick of an earlier setting finds the timer cancelled, or its new due time ahead.
            if (timer.Schedule is not { Set: true } schedule || schedule.Due == Timeouts.Never) return;
            if (!Timeouts.HasPassed(schedule.Due))
            {
                Timeouts.Arm(schedule.Clock!, schedule.Due);
                return;
            }
            if (schedule.Period == 0)
            {
                schedule.Set = false;
                schedule.ApcThread?.ActiveTimers.Remove(timer);
            }
            else
            {
                // The next period counts from this due time, not from when the tick arrived.
                var now = Stopwatch.GetTimestamp();
                schedule.Due += schedule.Period * Stopwatch.Frequency / 1000;
                if (schedule.Due < now) schedule.Due = now;
                Timeouts.Arm(schedule.Clock!, schedule.Due);
            }
            timer.SignalState = 1;
            WakeWaitersUnsynchronized(timer, ref wakes);
            dpc = schedule.Dpc;
            apcThread = schedule.ApcThread;
            routine = schedule.ApcRoutine;
            context = schedule.ApcContext;
        }
        Complete(wakes);
        if (dpc is not null)
        {
            using var scope = KernelRuntime.Enter(Runtime!);
            try
            {
                dpc.Routine(dpc, dpc.Context, null, null);
            }
            catch (Exception e)
            {
                DpcFaulted?.Invoke(dpc, e);
            }
        }
        if (apcThread is not null)
        {
            // TimerAPCProc(context, low, high): the FILETIME at which it fired. The timer has one APC:
            // while it waits to run, later expirations queue no more.
            var fired = DateTime.UtcNow.ToFileTimeUtc();
            QueueUserApc(apcThread, new KUserApc(routine, context, (ulong)(fired & 0xFFFFFFFF), (ulong)(fired >> 32), timer), onlyOnce: true);
        }
    }
}
