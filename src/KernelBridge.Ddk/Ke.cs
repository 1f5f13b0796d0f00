using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The kernel's exports (Ke*): dispatcher objects, waits, timers.</summary>
public static class Ke
{
    /// <summary>KeInitializeEvent: a new kernel event in the driver's own storage.</summary>
    public static KEvent InitializeEvent(EventType type, bool state) => new(type, state);

    /// <summary>KeSetEvent: signals; returns the previous state (0 or 1).</summary>
    public static int SetEvent(KEvent kevent) => KernelRuntime.Of(kevent).SetEvent(kevent);

    /// <summary>KeResetEvent: returns the previous state.</summary>
    public static int ResetEvent(KEvent kevent) => KernelRuntime.Of(kevent).ResetEvent(kevent);

    /// <summary>KeClearEvent: resets without reporting the previous state.</summary>
    public static void ClearEvent(KEvent kevent) => KernelRuntime.Of(kevent).ResetEvent(kevent);

    public static int PulseEvent(KEvent kevent) => KernelRuntime.Of(kevent).PulseEvent(kevent);

    /// <summary>KeReadStateEvent.</summary>
    public static int ReadStateEvent(KEvent kevent)
    {
        ArgumentNullException.ThrowIfNull(kevent);
        return Volatile.Read(ref kevent.SignalState);
    }

    public static KSemaphore InitializeSemaphore(int count, int limit) => new(count, limit);

    /// <summary>KeReleaseSemaphore: returns the previous count.</summary>
    public static int ReleaseSemaphore(KSemaphore semaphore, int adjustment = 1) => KernelRuntime.Of(semaphore).ReleaseSemaphore(semaphore, adjustment);

    public static KMutant InitializeMutex() => new();

    /// <summary>KeReleaseMutex: returns the previous signal state.</summary>
    public static int ReleaseMutex(KMutant mutex) => KernelRuntime.Of(mutex).ReleaseMutant(mutex, abandon: false);

    public static KTimer InitializeTimer() => new(TimerType.NotificationTimer);

    public static KTimer InitializeTimerEx(TimerType type) => new(type);

    /// <summary>
    /// KeSetTimer: due time in 100 ns units, negative = relative, positive = absolute (FILETIME);
    /// the DPC runs at expiry. Returns true if the timer was already set.
    /// </summary>
    public static bool SetTimer(KTimer timer, long dueTime, KDpc? dpc = null) => KernelRuntime.Of(timer).SetTimer(timer, dueTime, 0, dpc);

    /// <summary>KeSetTimerEx: with a period in milliseconds.</summary>
    public static bool SetTimerEx(KTimer timer, long dueTime, int periodMilliseconds, KDpc? dpc = null) =>
        KernelRuntime.Of(timer).SetTimer(timer, dueTime, periodMilliseconds, dpc);

    /// <summary>KeCancelTimer: true if the timer was set (its signal and DPC will not happen).</summary>
    public static bool CancelTimer(KTimer timer) => KernelRuntime.Of(timer).CancelTimer(timer);

    public static int ReadStateTimer(KTimer timer)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return Volatile.Read(ref timer.SignalState);
    }

    /// <summary>KeInitializeDpc.</summary>
    public static KDpc InitializeDpc(KDeferredRoutine routine, object? context) => new(routine, context);

    /// <summary>
    /// KeWaitForSingleObject from a driver (blocks the calling kernel thread, as at PASSIVE_LEVEL).
    /// Timeout in 100 ns units (negative relative), null = forever.
    /// </summary>
    public static NtStatus WaitForSingleObject(DispatcherObject obj, bool alertable = false, long? timeout = null) =>
        KernelRuntime.Of(obj).Wait([obj], waitAll: false, alertable, timeout);

    public static NtStatus WaitForMultipleObjects(DispatcherObject[] objects, bool waitAll, bool alertable = false, long? timeout = null) =>
        (objects.Length > 0 ? KernelRuntime.Of(objects[0]) : KernelRuntime.Current).Wait(objects, waitAll, alertable, timeout);

    /// <summary>KeDelayExecutionThread.</summary>
    public static NtStatus DelayExecutionThread(long interval, bool alertable = false) =>
        KernelRuntime.Current.Wait([], waitAll: false, alertable, interval);

    /// <summary>KeQuerySystemTime: 100 ns units since 1601 (FILETIME).</summary>
    public static long QuerySystemTime() => DateTime.UtcNow.ToFileTimeUtc();

    /// <summary>A relative due time of <paramref name="milliseconds"/> (negative, in 100 ns units).</summary>
    public static long RelativeMilliseconds(long milliseconds) => -milliseconds * 10_000;
}

/// <summary>IO_WORKITEM_ROUTINE.</summary>
public delegate void IoWorkItemRoutine(DeviceObject deviceObject, object? context);

/// <summary>WORK_QUEUE_TYPE.</summary>
public enum WorkQueueType
{
    CriticalWorkQueue = 0,
    DelayedWorkQueue = 1,
}

/// <summary>IO_WORKITEM: work run later on a system worker thread, keeping its device (and driver) alive.</summary>
public sealed class IoWorkItem
{
    internal IoWorkItem(DeviceObject device) => Device = device;

    public DeviceObject Device { get; }
}
