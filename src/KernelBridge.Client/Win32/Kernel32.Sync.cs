using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>PAPCFUNC: a user APC (QueueUserAPC).</summary>
public delegate void ApcProcedure(nint parameter);

/// <summary>PTIMERAPCROUTINE: a waitable timer's completion routine.</summary>
public delegate void TimerApcRoutine(nint argument, uint timerLowValue, uint timerHighValue);

public static unsafe partial class Kernel32
{
    public const uint INFINITE = 0xFFFFFFFF;
    public const uint WAIT_OBJECT_0 = 0;
    public const uint WAIT_ABANDONED_0 = 0x80;
    public const uint WAIT_IO_COMPLETION = 0xC0;
    public const uint WAIT_TIMEOUT = 0x102;
    public const uint WAIT_FAILED = 0xFFFFFFFF;
    public const int MAXIMUM_WAIT_OBJECTS = 64;
    public const uint HANDLE_FLAG_INHERIT = 1;
    public const uint HANDLE_FLAG_PROTECT_FROM_CLOSE = 2;

    /// <summary>Where kernel32's named objects live. One session here, so Global\ and Local\ mean the same.</summary>
    public static string? NamedObjectPath(string? name)
    {
        if (name is null) return null;
        if (name.StartsWith(@"Global\", StringComparison.Ordinal)) name = name[7..];
        else if (name.StartsWith(@"Local\", StringComparison.Ordinal)) name = name[6..];
        return @"\BaseNamedObjects\" + name;
    }

    /// <summary>A create's handle and last error: ERROR_ALREADY_EXISTS when it opened an existing object, 0 when new.</summary>
    private static nint Created(NtStatus status, nint handle)
    {
        if (!status.IsSuccess)
        {
            Fail(status);
            return 0;
        }
        SetLastError(status == NtStatus.STATUS_OBJECT_NAME_EXISTS ? Win32Error.ERROR_ALREADY_EXISTS : Win32Error.ERROR_SUCCESS);
        return handle;
    }

    private static nint Opened(NtStatus status, nint handle)
    {
        if (status.IsSuccess) return handle;
        Fail(status);
        return 0;
    }

    /// <summary>Open{Event,Semaphore,Mutex,WaitableTimer}: a null name is ERROR_INVALID_PARAMETER; else the handle, or 0 with the last error.</summary>
    private static nint OpenNamed(delegate*<nint*, uint, ObjectAttributes, NtStatus> open, uint desiredAccess, bool inheritHandle, string name)
    {
        if (name is null)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return 0;
        }
        nint handle;
        return Opened(open(&handle, desiredAccess, Named(name, inheritHandle, openIf: false)), handle);
    }

    private static ObjectAttributes Named(string? name, bool inherit, bool openIf) =>
        new(NamedObjectPath(name), (openIf && name is not null ? ObjectAttributeFlags.OBJ_OPENIF : 0) | (inherit ? ObjectAttributeFlags.OBJ_INHERIT : 0));

    private static long? Timeout(uint milliseconds) => milliseconds == INFINITE ? null : -(long)milliseconds * 10_000;

    // ---- Events ----

    public static nint CreateEvent(nint securityAttributes, bool manualReset, bool initialState, string? name)
    {
        _ = securityAttributes;
        nint handle;
        var status = Ntdll.NtCreateEvent(&handle, AccessMask.EVENT_ALL_ACCESS, Named(name, false, openIf: true),
            manualReset ? EventType.NotificationEvent : EventType.SynchronizationEvent, initialState);
        return Created(status, handle);
    }

    public static nint OpenEvent(uint desiredAccess, bool inheritHandle, string name) => OpenNamed(&Ntdll.NtOpenEvent, desiredAccess, inheritHandle, name);

    public static bool SetEvent(nint handle) => Check(Ntdll.NtSetEvent(handle, null));

    public static bool ResetEvent(nint handle) => Check(Ntdll.NtResetEvent(handle, null));

    public static bool PulseEvent(nint handle) => Check(Ntdll.NtPulseEvent(handle, null));

    private static bool Check(NtStatus status) => status.IsSuccess || Fail(status);

    // ---- Semaphores and mutexes ----

    public static nint CreateSemaphore(nint securityAttributes, int initialCount, int maximumCount, string? name)
    {
        _ = securityAttributes;
        nint handle;
        return Created(Ntdll.NtCreateSemaphore(&handle, AccessMask.SEMAPHORE_ALL_ACCESS, Named(name, false, openIf: true), initialCount, maximumCount), handle);
    }

    public static nint OpenSemaphore(uint desiredAccess, bool inheritHandle, string name) => OpenNamed(&Ntdll.NtOpenSemaphore, desiredAccess, inheritHandle, name);

    /// <summary>ReleaseSemaphore: past the maximum is FALSE with ERROR_TOO_MANY_POSTS, and nothing changes.</summary>
    public static bool ReleaseSemaphore(nint handle, int releaseCount, int* previousCount) =>
        Check(Ntdll.NtReleaseSemaphore(handle, releaseCount, previousCount));

    public static nint CreateMutex(nint securityAttributes, bool initialOwner, string? name)
    {
        _ = securityAttributes;
        nint handle;
        return Created(Ntdll.NtCreateMutant(&handle, AccessMask.MUTANT_ALL_ACCESS, Named(name, false, openIf: true), initialOwner), handle);
    }

    public static nint OpenMutex(uint desiredAccess, bool inheritHandle, string name) => OpenNamed(&Ntdll.NtOpenMutant, desiredAccess, inheritHandle, name);

    /// <summary>ReleaseMutex: by a thread that does not own it, FALSE with ERROR_NOT_OWNER.</summary>
    public static bool ReleaseMutex(nint handle) => Check(Ntdll.NtReleaseMutant(handle, null));

    // ---- Waitable timers ----

    public static nint CreateWaitableTimer(nint securityAttributes, bool manualReset, string? name)
    {
        _ = securityAttributes;
        nint handle;
        return Created(Ntdll.NtCreateTimer(&handle, AccessMask.TIMER_ALL_ACCESS, Named(name, false, openIf: true),
            manualReset ? TimerType.NotificationTimer : TimerType.SynchronizationTimer), handle);
    }

    public static nint OpenWaitableTimer(uint desiredAccess, bool inheritHandle, string name) => OpenNamed(&Ntdll.NtOpenTimer, desiredAccess, inheritHandle, name);

    /// <summary>
    /// SetWaitableTimer: due time in 100 ns units (negative relative, positive absolute FILETIME),
    /// period in ms; the completion routine runs on this thread in an alertable wait.
    /// </summary>
    public static bool SetWaitableTimer(nint timer, long dueTime, int period, TimerApcRoutine? completionRoutine, nint argument, bool resume)
    {
        nint routine = 0, context = 0;
        if (completionRoutine is not null)
        {
            routine = (nint)(delegate* unmanaged<nint, nint, nint, void>)&Trampolines.TimerApc;
            context = GCHandle.ToIntPtr(GCHandle.Alloc(new Trampolines.TimerApcState(completionRoutine, argument)));
        }
        var status = Ntdll.NtSetTimer(timer, &dueTime, routine, context, resume, period, null);
        if (!status.IsSuccess && context != 0) GCHandle.FromIntPtr(context).Free();
        return Check(status);
    }

    public static bool CancelWaitableTimer(nint timer) => Check(Ntdll.NtCancelTimer(timer, null));

    // ---- Waits ----

    /// <summary>The NT status as Win32 wait code; NT_ERROR becomes WAIT_FAILED with the last error.</summary>
    private static uint WaitResult(NtStatus status)
    {
        if (!status.IsError) return status.Code;
        Fail(status);
        return WAIT_FAILED;
    }

    public static uint WaitForSingleObject(nint handle, uint milliseconds) => WaitForSingleObjectEx(handle, milliseconds, false);

    public static uint WaitForSingleObjectEx(nint handle, uint milliseconds, bool alertable)
    {
        var timeout = Timeout(milliseconds);
        long value = timeout ?? 0;
        return WaitResult(Ntdll.NtWaitForSingleObject(handle, alertable, timeout is null ? null : &value));
    }

    public static uint WaitForMultipleObjects(uint count, ReadOnlySpan<nint> handles, bool waitAll, uint milliseconds) =>
        WaitForMultipleObjectsEx(count, handles, waitAll, milliseconds, false);

    /// <summary>WaitForMultipleObjectsEx: more than 64 handles (or none) is ERROR_INVALID_PARAMETER.</summary>
    public static uint WaitForMultipleObjectsEx(uint count, ReadOnlySpan<nint> handles, bool waitAll, uint milliseconds, bool alertable)
    {
        if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || count > handles.Length)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return WAIT_FAILED;
        }
        var timeout = Timeout(milliseconds);
        long value = timeout ?? 0;
        fixed (nint* pointer = handles)
            return WaitResult(Ntdll.NtWaitForMultipleObjects(count, pointer, waitAll ? WaitType.WaitAll : WaitType.WaitAny, alertable,
                timeout is null ? null : &value));
    }

    /// <summary>SleepEx: 0, or WAIT_IO_COMPLETION when an alertable sleep ran APCs.</summary>
    public static uint SleepEx(uint milliseconds, bool alertable)
    {
        var timeout = Timeout(milliseconds);
        long value = timeout ?? 0;
        var status = Ntdll.NtDelayExecution(alertable, timeout is null ? null : &value);
        return status == NtStatus.STATUS_USER_APC ? WAIT_IO_COMPLETION : 0;
    }

    public static void Sleep(uint milliseconds) => SleepEx(milliseconds, false);

    // ---- Threads and APCs ----

    public static uint GetCurrentThreadId() => (uint)GateClient.CurrentThreadId;

    public static nint OpenThread(uint desiredAccess, bool inheritHandle, uint threadId)
    {
        nint handle;
        return Opened(Ntdll.NtOpenThread(&handle, desiredAccess, new ObjectAttributes(null, inheritHandle ? ObjectAttributeFlags.OBJ_INHERIT : 0), threadId), handle);
    }

    /// <summary>QueueUserAPC: <paramref name="apc"/>(data) runs on the thread's next alertable wait, once.</summary>
    public static bool QueueUserAPC(ApcProcedure apc, nint thread, nint data)
    {
        ArgumentNullException.ThrowIfNull(apc);
        var state = GCHandle.ToIntPtr(GCHandle.Alloc(apc));
        var status = Ntdll.NtQueueApcThread(thread, (nint)(delegate* unmanaged<nint, nint, nint, void>)&Trampolines.UserApc, state, data, 0);
        if (status.IsSuccess) return true;
        GCHandle.FromIntPtr(state).Free();
        return Fail(status);
    }

    /// <summary>SetHandleInformation: HANDLE_FLAG_INHERIT and HANDLE_FLAG_PROTECT_FROM_CLOSE under <paramref name="mask"/>.</summary>
    public static bool SetHandleInformation(nint handle, uint mask, uint flags)
    {
        var current = new byte[2];
        uint returned;
        fixed (byte* pointer = current)
        {
            var status = Ntdll.NtQueryObject(handle, ObjectInformationClass.ObjectHandleFlagInformation, pointer, 2, &returned);
            if (!status.IsSuccess) return Fail(status);
        }
        var inherit = (mask & HANDLE_FLAG_INHERIT) != 0 ? (flags & HANDLE_FLAG_INHERIT) != 0 : current[0] != 0;
        var protect = (mask & HANDLE_FLAG_PROTECT_FROM_CLOSE) != 0 ? (flags & HANDLE_FLAG_PROTECT_FROM_CLOSE) != 0 : current[1] != 0;
        return Check(Ntdll.NtSetInformationObject(handle, inherit, protect));
    }

    /// <summary>The routines the kernel is told to run for APCs given as managed delegates.</summary>
    internal static class Trampolines
    {
        internal sealed record TimerApcState(TimerApcRoutine Routine, nint Argument);

        [UnmanagedCallersOnly]
        public static void UserApc(nint state, nint data, nint unused)
        {
            var handle = GCHandle.FromIntPtr(state);
            var apc = (ApcProcedure)handle.Target!;
            handle.Free();
            apc(data);
        }

        [UnmanagedCallersOnly]
        public static void TimerApc(nint state, nint low, nint high)
        {
            // A periodic timer fires again: the state lives as long as the process.
            var timer = (TimerApcState)GCHandle.FromIntPtr(state).Target!;
            timer.Routine(timer.Argument, (uint)low, (uint)high);
        }
    }
}
