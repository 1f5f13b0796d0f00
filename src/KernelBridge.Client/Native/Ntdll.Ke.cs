using System.Runtime.InteropServices;
using System.Diagnostics.CodeAnalysis;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>WAIT_TYPE.</summary>
public enum WaitType
{
    WaitAll = 0,
    WaitAny = 1,
}

public static unsafe partial class Ntdll
{
    // ---- Events ----

    public static NtStatus NtCreateEvent(nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes, EventType eventType, bool initialState) =>
        NtCreateEvent(null, eventHandle, desiredAccess, objectAttributes, eventType, initialState);

    internal static NtStatus NtCreateEvent(GateClient? gate, nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes, EventType eventType,
        bool initialState)
    {
        if (!BeginOpen(ref gate, eventHandle, out var status)) return status;
        status = Syscalls.NtCreateEvent(gate, new NtCreateEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)eventType, initialState ? 1u : 0, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(eventHandle, status, reply);
    }

    public static NtStatus NtOpenEvent(nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes) =>
        NtOpenEvent(null, eventHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtOpenEvent(GateClient? gate, nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        if (!BeginOpen(ref gate, eventHandle, out var status)) return status;
        status = Syscalls.NtOpenEvent(gate, new NtOpenEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        return HandleOut(eventHandle, status, reply);
    }

    public static NtStatus NtSetEvent(nint eventHandle, int* previousState) => NtSetEvent(null, eventHandle, previousState);

    internal static NtStatus NtSetEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        TryGate(ref gate, out var status) ? StateOut(previousState, Syscalls.NtSetEvent(gate, new NtSetEventRequest(eventHandle), out var reply), reply) : status;

    public static NtStatus NtResetEvent(nint eventHandle, int* previousState) => NtResetEvent(null, eventHandle, previousState);

    internal static NtStatus NtResetEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        TryGate(ref gate, out var status) ? StateOut(previousState, Syscalls.NtResetEvent(gate, new NtResetEventRequest(eventHandle), out var reply), reply) : status;

    public static NtStatus NtPulseEvent(nint eventHandle, int* previousState) => NtPulseEvent(null, eventHandle, previousState);

    internal static NtStatus NtPulseEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        TryGate(ref gate, out var status) ? StateOut(previousState, Syscalls.NtPulseEvent(gate, new NtPulseEventRequest(eventHandle), out var reply), reply) : status;

    /// <summary>NtQueryEvent(EventBasicInformation): the event's type and state.</summary>
    public static NtStatus NtQueryEvent(nint eventHandle, out EventType eventType, out int state)
    {
        QueryStateReply reply = default;
        var status = TryCurrentGate(out var gate, out var failure) ? Syscalls.NtQueryEvent(gate, new NtQueryEventRequest(eventHandle), out reply) : failure;
        eventType = (EventType)reply.Value1;
        state = reply.Value2;
        return status;
    }

    // ---- Semaphores ----

    public static NtStatus NtCreateSemaphore(nint* semaphoreHandle, uint desiredAccess, ObjectAttributes objectAttributes, int initialCount, int maximumCount)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, semaphoreHandle, out var status)) return status;
        status = Syscalls.NtCreateSemaphore(gate, new NtCreateSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialCount, maximumCount, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(semaphoreHandle, status, reply);
    }

    public static NtStatus NtOpenSemaphore(nint* semaphoreHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, semaphoreHandle, out var status)) return status;
        status = Syscalls.NtOpenSemaphore(gate, new NtOpenSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        return HandleOut(semaphoreHandle, status, reply);
    }

    public static NtStatus NtReleaseSemaphore(nint semaphoreHandle, int releaseCount, int* previousCount) =>
        TryCurrentGate(out var gate, out var status)
            ? StateOut(previousCount, Syscalls.NtReleaseSemaphore(gate, new NtReleaseSemaphoreRequest(semaphoreHandle, releaseCount, 0), out var reply), reply)
            : status;

    public static NtStatus NtQuerySemaphore(nint semaphoreHandle, out int currentCount, out int maximumCount)
    {
        QueryStateReply reply = default;
        var status = TryCurrentGate(out var gate, out var failure) ? Syscalls.NtQuerySemaphore(gate, new NtQuerySemaphoreRequest(semaphoreHandle), out reply) : failure;
        currentCount = reply.Value1;
        maximumCount = reply.Value2;
        return status;
    }

    // ---- Mutants ----

    public static NtStatus NtCreateMutant(nint* mutantHandle, uint desiredAccess, ObjectAttributes objectAttributes, bool initialOwner)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, mutantHandle, out var status)) return status;
        status = Syscalls.NtCreateMutant(gate, new NtCreateMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialOwner ? 1u : 0, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(mutantHandle, status, reply);
    }

    public static NtStatus NtOpenMutant(nint* mutantHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, mutantHandle, out var status)) return status;
        status = Syscalls.NtOpenMutant(gate, new NtOpenMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        return HandleOut(mutantHandle, status, reply);
    }

    public static NtStatus NtReleaseMutant(nint mutantHandle, int* previousCount) =>
        TryCurrentGate(out var gate, out var status)
            ? StateOut(previousCount, Syscalls.NtReleaseMutant(gate, new NtReleaseMutantRequest(mutantHandle), out var reply), reply)
            : status;

    /// <summary>NtQueryMutant(MutantBasicInformation): CurrentCount (1 free, 0 owned once, -1 twice...), OwnedByCaller, AbandonedState.</summary>
    public static NtStatus NtQueryMutant(nint mutantHandle, out int currentCount, out bool ownedByCaller, out bool abandonedState)
    {
        QueryStateReply reply = default;
        var status = TryCurrentGate(out var gate, out var failure) ? Syscalls.NtQueryMutant(gate, new NtQueryMutantRequest(mutantHandle), out reply) : failure;
        currentCount = reply.Value1;
        ownedByCaller = reply.Value2 != 0;
        abandonedState = reply.Value3 != 0;
        return status;
    }

    // ---- Timers ----

    public static NtStatus NtCreateTimer(nint* timerHandle, uint desiredAccess, ObjectAttributes objectAttributes, TimerType timerType)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, timerHandle, out var status)) return status;
        status = Syscalls.NtCreateTimer(gate, new NtCreateTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)timerType, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(timerHandle, status, reply);
    }

    public static NtStatus NtOpenTimer(nint* timerHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, timerHandle, out var status)) return status;
        status = Syscalls.NtOpenTimer(gate, new NtOpenTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, 0, 0),
            new(NameOf(objectAttributes)), out var reply);
        return HandleOut(timerHandle, status, reply);
    }

    /// <summary>NtSetTimer: due time in 100 ns units (negative relative), an optional APC for this thread, a period in ms.</summary>
    public static NtStatus NtSetTimer(nint timerHandle, long* dueTime, nint timerApcRoutine, nint timerContext, bool resumeTimer, int period, int* previousState)
    {
        if (dueTime is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        status = Syscalls.NtSetTimer(gate, new NtSetTimerRequest(timerHandle, *dueTime, (ulong)timerApcRoutine, (ulong)timerContext, period, resumeTimer ? 1u : 0),
            out var reply);
        return StateOut(previousState, status, reply);
    }

    public static NtStatus NtCancelTimer(nint timerHandle, int* currentState) =>
        TryCurrentGate(out var gate, out var status)
            ? StateOut(currentState, Syscalls.NtCancelTimer(gate, new NtCancelTimerRequest(timerHandle), out var reply), reply)
            : status;

    // ---- Waits and APCs ----

    /// <summary>NtWaitForSingleObject; timeout in 100 ns units (negative relative), null forever. Alertable waits run queued APCs and return STATUS_USER_APC.</summary>
    public static NtStatus NtWaitForSingleObject(nint handle, bool alertable, long* timeout) => NtWaitForSingleObject(null, handle, alertable, timeout);

    internal static NtStatus NtWaitForSingleObject(GateClient? gate, nint handle, bool alertable, long* timeout)
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtWaitForSingleObject(gate,
            new NtWaitForSingleObjectRequest(handle, timeout is null ? 0 : *timeout, alertable ? 1u : 0, timeout is null ? 0u : 1));
        return AfterWait(answer);
    }

    /// <summary>
    /// NtWaitForSingleObject without a thread (non-alertable): the task ends with the wait's status;
    /// <paramref name="timeout"/> as for the synchronous call (null forever). Cancelling the token ends
    /// the kernel's wait with STATUS_CANCELLED. The kernel knows the wait by the thread that started it:
    /// if that thread exits first, the wait ends with STATUS_THREAD_IS_TERMINATING.
    /// </summary>
    internal static ValueTask<NtStatus> NtWaitForSingleObjectAsync(GateClient gate, nint handle, long? timeout, CancellationToken cancellationToken) =>
        gate.WaitAsync(new NtWaitForSingleObjectRequest(handle, timeout ?? 0, 0, timeout is null ? 0u : 1), default, cancellationToken);

    public static NtStatus NtWaitForMultipleObjects(uint count, nint* handles, WaitType waitType, bool alertable, long* timeout)
    {
        if (handles is null && count != 0) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        // Send at most one more than the limit: the kernel answers STATUS_INVALID_PARAMETER_1 for too many.
        Span<long> wire = stackalloc long[(int)NtWaitForMultipleObjectsRequest.HandlesToSend(count)];
        for (var i = 0; i < wire.Length; i++) wire[i] = handles[i];
        using var answer = Syscalls.NtWaitForMultipleObjects(gate, new NtWaitForMultipleObjectsRequest(count, (uint)waitType, alertable ? 1u : 0,
            timeout is null ? 0u : 1, timeout is null ? 0 : *timeout, 0, 0), new(wire));
        return AfterWait(answer);
    }

    /// <summary>NtDelayExecution: sleeps (alertably, if asked); STATUS_SUCCESS, or STATUS_USER_APC after running APCs.</summary>
    public static NtStatus NtDelayExecution(bool alertable, long* delayInterval)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        using var answer = Syscalls.NtDelayExecution(gate,
            new NtDelayExecutionRequest(alertable ? 1u : 0, delayInterval is null ? 0u : 1, delayInterval is null ? 0 : *delayInterval));
        return AfterWait(answer);
    }

    /// <summary>NtTestAlert: runs this thread's queued user APCs now.</summary>
    public static NtStatus NtTestAlert()
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        using var answer = Syscalls.NtTestAlert(gate, new NtTestAlertRequest(0));
        return AfterWait(answer);
    }

    /// <summary>NtQueueApcThread: routine(argument1, argument2, argument3) on the thread's next alertable wait.</summary>
    public static NtStatus NtQueueApcThread(nint threadHandle, nint apcRoutine, nint argument1, nint argument2, nint argument3) =>
        TryCurrentGate(out var gate, out var status)
            ? Syscalls.NtQueueApcThread(gate, new NtQueueApcThreadRequest(threadHandle, (ulong)apcRoutine, (ulong)argument1, (ulong)argument2, (ulong)argument3), out _)
            : status;

    /// <summary>NtOpenThread by thread id (a thread of this process the kernel has seen).</summary>
    public static NtStatus NtOpenThread(nint* threadHandle, uint desiredAccess, ObjectAttributes objectAttributes, long threadId)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        status = Syscalls.NtOpenThread(gate, new NtOpenThreadRequest(desiredAccess, (uint)objectAttributes.Attributes, threadId), out var reply);
        if (threadHandle is not null) *threadHandle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    /// <summary>NtSetInformationObject(ObjectHandleFlagInformation): the handle's inherit and protect-from-close flags.</summary>
    public static NtStatus NtSetInformationObject(nint handle, bool inherit, bool protectFromClose) =>
        TryCurrentGate(out var gate, out var status)
            ? Syscalls.NtSetInformationObject(gate, new NtSetInformationObjectRequest(handle, (uint)ObjectInformationClass.ObjectHandleFlagInformation,
                inherit ? 1u : 0, protectFromClose ? 1u : 0, 0), out _)
            : status;

    // ---- Shared shapes ----

    /// <summary>An object name as it travels (UTF-16, the string's own characters; none for an unnamed object).</summary>
    private static ReadOnlySpan<char> NameOf(in ObjectAttributes objectAttributes) => objectAttributes.ObjectName;

    /// <summary>The checks every create and open makes before the call: somewhere to put the handle, and a connection.</summary>
    private static bool BeginOpen([NotNullWhen(true)] ref GateClient? gate, nint* handle, out NtStatus status)
    {
        if (handle is null)
        {
            status = NtStatus.STATUS_ACCESS_VIOLATION;
            return false;
        }
        return TryGate(ref gate, out status);
    }

    /// <summary>Writes the new handle (0 on failure), as the Nt create and open calls do.</summary>
    private static NtStatus HandleOut(nint* handle, NtStatus status, in HandleReply reply)
    {
        *handle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    /// <summary>Writes the previous (or current) state an operation reports, when asked for and only on success.</summary>
    private static NtStatus StateOut(int* state, NtStatus status, in StateReply reply)
    {
        if (state is not null && status.IsSuccess) *state = reply.State;
        return status;
    }

    /// <summary>After a wait: the user APCs an alertable one brings back run on this thread before it returns.</summary>
    private static NtStatus AfterWait(in CallAnswer<WaitReply> answer)
    {
        var reply = answer.Reply;
        if (reply.ApcCount > 0) RunApcs(WaitReply.ReadData(in reply, answer.Data).Apcs);
        return answer.Status;
    }

    /// <summary>Runs user APCs on this thread, in the order they were queued: routine(arg1, arg2, arg3).</summary>
    internal static void RunApcs(ReadOnlySpan<ApcRecord> apcs)
    {
        foreach (var apc in apcs)
            ((delegate* unmanaged<nint, nint, nint, void>)apc.Routine)((nint)apc.Argument1, (nint)apc.Argument2, (nint)apc.Argument3);
    }
}
