using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ke;

internal sealed partial class Dispatcher
{
    /// <summary>A timer's schedule (KTIMER's queue entry): due time, period, DPC, and a user APC for NtSetTimer.</summary>
    private sealed class TimerSchedule
    {
        public Timer? Clock;
        public bool Set;
        public int Period;
        public KDpc? Dpc;
        public ThreadObject? ApcThread;
        public ulong ApcRoutine;
        public ulong ApcContext;
        public long Generation;
    }

    /// <summary>Called with an exception a DPC threw (the I/O manager turns it into a driver fault).</summary>
    public Action<KDpc, Exception>? DpcFaulted { get; set; }

    /// <summary>KeSetTimerEx / NtSetTimer: resets the timer to not-signalled and schedules it. True if it was already set.</summary>
    public bool SetTimer(KTimer timer, long dueTime, int periodMilliseconds, KDpc? dpc, ThreadObject? apcThread = null, ulong apcRoutine = 0, ulong apcContext = 0) =>
        Locked(_ =>
        {
            var schedule = (TimerSchedule)(timer.Scheduler ??= new TimerSchedule());
            var wasSet = schedule.Set;
            // Setting again takes back a completion routine that fired but has not run.
            ForgetApcUnsynchronized(timer, schedule);
            schedule.Clock?.Dispose();
            schedule.Generation++;
            schedule.Set = true;
            schedule.Period = Math.Max(0, periodMilliseconds);
            schedule.Dpc = dpc;
            schedule.ApcThread = apcRoutine != 0 ? apcThread : null;
            schedule.ApcRoutine = apcRoutine;
            schedule.ApcContext = apcContext;
            if (schedule.ApcThread is { } owner && !owner.ActiveTimers.Contains(timer)) owner.ActiveTimers.Add(timer);
            timer.SignalState = 0;
            var generation = schedule.Generation;
            var delay = DelayOf(dueTime);
            schedule.Clock = new Timer(_ => Expire(timer, generation), null, delay < TimeSpan.Zero ? TimeSpan.Zero : Clamp(delay),
                schedule.Period > 0 ? TimeSpan.FromMilliseconds(schedule.Period) : Timeout.InfiniteTimeSpan);
            return wasSet;
        });

    /// <summary>KeCancelTimer / NtCancelTimer: stops it without touching its signal state. True if it was set.</summary>
    public bool CancelTimer(KTimer timer) => Locked(_ => CancelTimerUnsynchronized(timer));

    private static bool CancelTimerUnsynchronized(KTimer timer)
    {
        if (timer.Scheduler is not TimerSchedule schedule) return false;
        var wasSet = schedule.Set;
        ForgetApcUnsynchronized(timer, schedule);
        schedule.Set = false;
        schedule.Generation++;
        schedule.Clock?.Dispose();
        schedule.Clock = null;
        return wasSet;
    }

    /// <summary>KeRemoveQueueApc for the timer's APC, and the timer off its thread's active list.</summary>
    private static void ForgetApcUnsynchronized(KTimer timer, TimerSchedule schedule)
    {
        if (schedule.ApcThread is not { } thread) return;
        thread.UserApcs.RemoveAll(apc => ReferenceEquals(apc.Timer, timer));
        thread.ActiveTimers.Remove(timer);
        schedule.ApcThread = null;
    }

    private void Expire(KTimer timer, long generation)
    {
        KDpc? dpc = null;
        ThreadObject? apcThread = null;
        ulong routine = 0, context = 0;
        Locked(wakes =>
        {
            if (timer.Scheduler is not TimerSchedule schedule || schedule.Generation != generation || !schedule.Set) return;
            if (schedule.Period == 0)
            {
                schedule.Set = false;
                schedule.ApcThread?.ActiveTimers.Remove(timer);
            }
            timer.SignalState = 1;
            WakeWaitersUnsynchronized(timer, wakes);
            dpc = schedule.Dpc;
            apcThread = schedule.ApcThread;
            routine = schedule.ApcRoutine;
            context = schedule.ApcContext;
        });
        if (dpc is not null)
        {
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
            var now = DateTime.UtcNow.ToFileTimeUtc();
            QueueUserApc(apcThread, new UserApc(routine, context, (ulong)(now & 0xFFFFFFFF), (ulong)(now >> 32), timer), onlyOnce: true);
        }
    }
}
