using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>KTIMER: signalled at its due time (and every period after), optionally running a DPC.</summary>
public sealed class KTimer : DispatcherObject
{
    public KTimer(TimerType type = TimerType.NotificationTimer) : base(ObjectTypes.Timer) => Type = type;

    public TimerType Type { get; }

    /// <summary>The timer's place in the kernel's timer queue (made when it is first set; dispatcher lock).</summary>
    internal KTimerSchedule? Schedule;
}

/// <summary>
/// A timer's schedule (KTIMER's queue entry): due time, period, DPC, and the user APC NtSetTimer
/// may ask for. Guarded by the dispatcher lock.
/// </summary>
internal sealed class KTimerSchedule
{
    public Timer? Clock;
    public bool Set;
    public int Period;
    public KDpc? Dpc;
    public KThread? ApcThread;
    public ulong ApcRoutine;
    public ulong ApcContext;

    /// <summary>When it next expires (Stopwatch ticks); a late tick of an earlier setting is told apart by it.</summary>
    public long Due;
}
