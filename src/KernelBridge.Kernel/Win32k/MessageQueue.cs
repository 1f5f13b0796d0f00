using KernelBridge.Kernel.Ps;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// A thread's message queue and its win32k state (THREADINFO with its MSGQUEUE), made on the
/// thread's first User32 call and gone with the thread. It holds posted messages, the WM_QUIT flag,
/// messages sent to it (waiting and in progress), its own sends that wait for a result, its
/// windows, and the QS_* bits. The owning thread waits on <see cref="WakeEvent"/>, which is set
/// when something it waits for may have arrived. Everything but the event is guarded by the user lock.
/// </summary>
internal sealed class MessageQueue(ThreadObject thread)
{
    public ThreadObject Thread { get; } = thread;
    public int ThreadId => Thread.ThreadId;
    public ProcessObject Process => Thread.Process;

    /// <summary>Set when something the waiting thread wants may be here; the waiter resets it before it looks.</summary>
    public KEvent WakeEvent { get; } = new(EventType.NotificationEvent, false);

    public PostedMessageRing Posted { get; } = new();
    public bool QuitPosted { get; set; }
    public int QuitCode { get; set; }

    /// <summary>Messages sent to this thread that it has not taken yet, in arrival order.</summary>
    public List<SentMessage> Sent { get; } = [];

    /// <summary>Sent messages it took and has not answered yet, by id.</summary>
    public Dictionary<ulong, SentMessage> InProgress { get; } = [];

    /// <summary>Its own sends waiting for a result, by id.</summary>
    public Dictionary<ulong, SentMessage> Outstanding { get; } = [];

    public List<WindowObject> Windows { get; } = [];

    /// <summary>QS_* bits that became set since the thread last looked (GetQueueStatus' low word).</summary>
    public uint ChangedBits { get; set; }

    /// <summary>The QS_* bits whose arrival wakes the parked call (0 when none is parked).</summary>
    public uint WaiterMask { get; set; }

    /// <summary>A call of the thread is parked waiting for messages (so it is not hung).</summary>
    public bool InMessageWait { get; set; }

    /// <summary>When the thread last asked for messages (Stopwatch ticks).</summary>
    public long LastPump { get; set; } = Stopwatch.GetTimestamp();

    public bool Destroyed { get; set; }

    /// <summary>The QS_* bits of what is in the queue now (GetQueueStatus' high word).</summary>
    public uint WakeBits
    {
        get
        {
            var bits = 0u;
            if (Posted.Count > 0 || QuitPosted) bits |= Abi.Win32k.QueueStatus.QS_POSTMESSAGE | Abi.Win32k.QueueStatus.QS_ALLPOSTMESSAGE;
            if (Sent.Count > 0) bits |= Abi.Win32k.QueueStatus.QS_SENDMESSAGE;
            return bits;
        }
    }

    /// <summary>IsHungAppWindow: not waiting for messages, and none asked for in the last 5 seconds.</summary>
    public bool IsHung =>
        !InMessageWait && Stopwatch.GetElapsedTime(LastPump).TotalMilliseconds > Abi.Win32k.UserLimits.HungAppTimeoutMilliseconds;

    public override string ToString() => $"queue of {Thread}";
}
