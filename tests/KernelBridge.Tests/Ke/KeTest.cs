using System.Runtime.ExceptionServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Helpers for the dispatcher-object tests: unique names, raw Nt* calls, and blocking calls on
/// dedicated OS threads (the kernel knows threads by their Linux thread id, so a mutex belongs to
/// the real thread that took it) with every join bounded.
/// </summary>
internal static unsafe class KeTest
{
    /// <summary>The bound on any single wait a test makes for a result.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>What "still blocked" means: long enough for a wrong wake-up to have shown.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    /// <summary>A name no other test uses.</summary>
    public static string UniqueName(string prefix = "kb") => $"{prefix}-{Guid.NewGuid():N}";

    public static string NtName(string name) => @"\BaseNamedObjects\" + name;

    // ---- Objects ----

    public static nint Event(bool manualReset, bool initialState, string? name = null)
    {
        var handle = Kernel32.CreateEvent(0, manualReset, initialState, name);
        Assert.True(handle != 0, $"CreateEvent failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static nint Mutex(bool initialOwner, string? name = null)
    {
        var handle = Kernel32.CreateMutex(0, initialOwner, name);
        Assert.True(handle != 0, $"CreateMutex failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static nint Semaphore(int initial, int maximum, string? name = null)
    {
        var handle = Kernel32.CreateSemaphore(0, initial, maximum, name);
        Assert.True(handle != 0, $"CreateSemaphore failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static nint Timer(bool manualReset, string? name = null)
    {
        var handle = Kernel32.CreateWaitableTimer(0, manualReset, name);
        Assert.True(handle != 0, $"CreateWaitableTimer failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static void Close(params nint[] handles)
    {
        foreach (var handle in handles)
            if (handle != 0 && handle != -1) Ntdll.NtClose(handle);
    }

    /// <summary>NtCreateEvent; the handle starts as 0x5555 so an unwritten one shows.</summary>
    public static NtStatus NtCreateEvent(out nint handle, EventType type, bool initialState, string? name = null,
        ObjectAttributeFlags attributes = 0, uint access = AccessMask.EVENT_ALL_ACCESS)
    {
        nint value = 0x5555;
        var status = Ntdll.NtCreateEvent(&value, access, new ObjectAttributes(name, attributes), type, initialState);
        handle = value;
        return status;
    }

    public static NtStatus NtCreateMutant(out nint handle, bool initialOwner, string? name = null, ObjectAttributeFlags attributes = 0)
    {
        nint value = 0x5555;
        var status = Ntdll.NtCreateMutant(&value, AccessMask.MUTANT_ALL_ACCESS, new ObjectAttributes(name, attributes), initialOwner);
        handle = value;
        return status;
    }

    public static NtStatus NtCreateTimer(out nint handle, TimerType type, string? name = null, ObjectAttributeFlags attributes = 0)
    {
        nint value = 0x5555;
        var status = Ntdll.NtCreateTimer(&value, AccessMask.TIMER_ALL_ACCESS, new ObjectAttributes(name, attributes), type);
        handle = value;
        return status;
    }

    /// <summary>The event's signal state, through NtQueryEvent.</summary>
    public static int EventState(nint handle)
    {
        var status = Ntdll.NtQueryEvent(handle, out _, out var state);
        Assert.True(status == NtStatus.STATUS_SUCCESS, $"NtQueryEvent gave {status}");
        return state;
    }

    public static (int Count, int Maximum) SemaphoreState(nint handle)
    {
        var status = Ntdll.NtQuerySemaphore(handle, out var count, out var maximum);
        Assert.True(status == NtStatus.STATUS_SUCCESS, $"NtQuerySemaphore gave {status}");
        return (count, maximum);
    }

    public static (int CurrentCount, bool OwnedByCaller, bool Abandoned) MutantState(nint handle)
    {
        var status = Ntdll.NtQueryMutant(handle, out var count, out var owned, out var abandoned);
        Assert.True(status == NtStatus.STATUS_SUCCESS, $"NtQueryMutant gave {status}");
        return (count, owned, abandoned);
    }

    /// <summary>WaitForSingleObject(handle, 0): WAIT_OBJECT_0 if it is signalled (and consumes it), WAIT_TIMEOUT if not.</summary>
    public static uint Poll(nint handle) => Kernel32.WaitForSingleObject(handle, 0);

    /// <summary>A wait with its result and last error.</summary>
    public static (uint Result, uint LastError) Wait(nint handle, uint milliseconds = 0)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var result = Kernel32.WaitForSingleObject(handle, milliseconds);
        return (result, Kernel32.GetLastError());
    }

    public static (uint Result, uint LastError) WaitMultiple(ReadOnlySpan<nint> handles, bool waitAll, uint milliseconds = 0)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var result = Kernel32.WaitForMultipleObjects((uint)handles.Length, handles, waitAll, milliseconds);
        return (result, Kernel32.GetLastError());
    }

    public static NtStatus NtWait(nint handle, long timeout100ns = 0, bool alertable = false)
    {
        var timeout = timeout100ns;
        return Ntdll.NtWaitForSingleObject(handle, alertable, &timeout);
    }

    public static NtStatus NtWaitMultiple(nint[] handles, WaitType type, long timeout100ns = 0, uint? count = null)
    {
        var timeout = timeout100ns;
        fixed (nint* pointer = handles)
            return Ntdll.NtWaitForMultipleObjects(count ?? (uint)handles.Length, pointer, type, false, &timeout);
    }

    public static NtStatus NtDelay(bool alertable, long interval100ns)
    {
        var interval = interval100ns;
        return Ntdll.NtDelayExecution(alertable, &interval);
    }

    /// <summary>Milliseconds as an NT relative time (negative, in 100 ns units).</summary>
    public static long Relative(int milliseconds) => -(long)milliseconds * 10_000;

    // ---- Threads ----

    /// <summary>Runs <paramref name="work"/> on a new OS thread and waits for it, bounded.</summary>
    public static T OnThread<T>(Func<T> work, GateClient? gate = null)
    {
        using var call = new ThreadCall<T>(work, gate);
        return call.Join();
    }

    public static void OnThread(Action work, GateClient? gate = null) => OnThread(() =>
    {
        work();
        return 0;
    }, gate);

    /// <summary>Bounded polling (no kernel call is made by the poll itself).</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }
}

/// <summary>
/// A call made on a dedicated OS thread (optionally through another connection, i.e. as another
/// process). <see cref="Started"/> is set just before the work runs; joins are bounded.
/// </summary>
internal sealed class ThreadCall<T> : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private T _result = default!;
    private Exception? _error;

    public ThreadCall(Func<T> work, GateClient? gate = null)
    {
        _thread = new Thread(() =>
        {
            ThreadId = (int)Kernel32.GetCurrentThreadId();
            ManagedThreadId = Environment.CurrentManagedThreadId;
            _started.Set();
            try
            {
                if (gate is null) _result = work();
                else
                    using (GateClient.Use(gate))
                        _result = work();
            }
            catch (Exception e)
            {
                _error = e;
            }
        })
        { IsBackground = true, Name = "Ke test call" };
        _thread.Start();
    }

    /// <summary>The Linux thread id (what the kernel knows the thread by).</summary>
    public int ThreadId { get; private set; }

    public int ManagedThreadId { get; private set; }

    /// <summary>Waits (bounded) until the thread is about to run the work.</summary>
    public void WaitStarted() => Assert.True(_started.Wait(KeTest.Timeout), "the thread did not start");

    public bool IsCompleted => !_thread.IsAlive;

    /// <summary>Whether the call finished within <paramref name="timeout"/>.</summary>
    public bool Finished(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>The call's result; fails the test if it does not finish within the bound.</summary>
    public T Join(TimeSpan? timeout = null)
    {
        Assert.True(_thread.Join(timeout ?? KeTest.Timeout), "the blocking call did not return in time");
        if (_error is not null) ExceptionDispatchInfo.Throw(_error);
        return _result;
    }

    public void Dispose()
    {
        _thread.Join(KeTest.Timeout);
        _started.Dispose();
    }
}

/// <summary>Starting blocking calls and knowing they are parked in the kernel.</summary>
internal static class Parked
{
    /// <summary>
    /// Starts <paramref name="count"/> calls and returns once they should be parked: each thread has
    /// started, had time to send its request, and a round trip on the same connection has been made
    /// after that (the kernel serves one connection's requests in order).
    /// </summary>
    public static List<ThreadCall<T>> Start<T>(int count, Func<T> work, GateClient? gate = null)
    {
        var calls = new List<ThreadCall<T>>();
        for (var i = 0; i < count; i++) calls.Add(new ThreadCall<T>(work, gate));
        foreach (var call in calls) call.WaitStarted();
        Settle(gate);
        return calls;
    }

    public static ThreadCall<T> Start<T>(Func<T> work, GateClient? gate = null) => Start(1, work, gate)[0];

    /// <summary>Lets started calls reach the kernel: a pause, then a round trip on the connection.</summary>
    public static void Settle(GateClient? gate = null)
    {
        Thread.Sleep(KeTest.Settle);
        using (GateClient.Use(gate ?? GateClient.Current))
            Kernel32.SleepEx(0, false);
    }
}
