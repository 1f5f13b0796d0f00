using System.Runtime.InteropServices;
using System.Text;
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
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(gate, eventHandle, new NtCreateEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)eventType, initialState ? 1u : 0, (uint)name.Length, 0), name);
    }

    public static NtStatus NtOpenEvent(nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes) =>
        NtOpenEvent(null, eventHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtOpenEvent(GateClient? gate, nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(gate, eventHandle, new NtOpenEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtSetEvent(nint eventHandle, int* previousState) => NtSetEvent(null, eventHandle, previousState);

    internal static NtStatus NtSetEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        StateCall(gate, new NtSetEventRequest(eventHandle), previousState);

    public static NtStatus NtResetEvent(nint eventHandle, int* previousState) => NtResetEvent(null, eventHandle, previousState);

    internal static NtStatus NtResetEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        StateCall(gate, new NtResetEventRequest(eventHandle), previousState);

    public static NtStatus NtPulseEvent(nint eventHandle, int* previousState) => NtPulseEvent(null, eventHandle, previousState);

    internal static NtStatus NtPulseEvent(GateClient? gate, nint eventHandle, int* previousState) =>
        StateCall(gate, new NtPulseEventRequest(eventHandle), previousState);

    /// <summary>NtQueryEvent(EventBasicInformation): the event's type and state.</summary>
    public static NtStatus NtQueryEvent(nint eventHandle, out EventType eventType, out int state)
    {
        var status = QueryCall(new NtQueryEventRequest(eventHandle), out var reply);
        eventType = (EventType)reply.Value1;
        state = reply.Value2;
        return status;
    }

    // ---- Semaphores ----

    public static NtStatus NtCreateSemaphore(nint* semaphoreHandle, uint desiredAccess, ObjectAttributes objectAttributes, int initialCount, int maximumCount)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, semaphoreHandle, new NtCreateSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialCount, maximumCount, (uint)name.Length, 0), name);
    }

    public static NtStatus NtOpenSemaphore(nint* semaphoreHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, semaphoreHandle, new NtOpenSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtReleaseSemaphore(nint semaphoreHandle, int releaseCount, int* previousCount) =>
        StateCall(null, new NtReleaseSemaphoreRequest(semaphoreHandle, releaseCount, 0), previousCount);

    public static NtStatus NtQuerySemaphore(nint semaphoreHandle, out int currentCount, out int maximumCount)
    {
        var status = QueryCall(new NtQuerySemaphoreRequest(semaphoreHandle), out var reply);
        currentCount = reply.Value1;
        maximumCount = reply.Value2;
        return status;
    }

    // ---- Mutants ----

    public static NtStatus NtCreateMutant(nint* mutantHandle, uint desiredAccess, ObjectAttributes objectAttributes, bool initialOwner)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, mutantHandle, new NtCreateMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialOwner ? 1u : 0, (uint)name.Length), name);
    }

    public static NtStatus NtOpenMutant(nint* mutantHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, mutantHandle, new NtOpenMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtReleaseMutant(nint mutantHandle, int* previousCount) => StateCall(null, new NtReleaseMutantRequest(mutantHandle), previousCount);

    /// <summary>NtQueryMutant(MutantBasicInformation): CurrentCount (1 free, 0 owned once, -1 twice...), OwnedByCaller, AbandonedState.</summary>
    public static NtStatus NtQueryMutant(nint mutantHandle, out int currentCount, out bool ownedByCaller, out bool abandonedState)
    {
        var status = QueryCall(new NtQueryMutantRequest(mutantHandle), out var reply);
        currentCount = reply.Value1;
        ownedByCaller = reply.Value2 != 0;
        abandonedState = reply.Value3 != 0;
        return status;
    }

    // ---- Timers ----

    public static NtStatus NtCreateTimer(nint* timerHandle, uint desiredAccess, ObjectAttributes objectAttributes, TimerType timerType)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, timerHandle, new NtCreateTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)timerType, (uint)name.Length), name);
    }

    public static NtStatus NtOpenTimer(nint* timerHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, timerHandle, new NtOpenTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    /// <summary>NtSetTimer: due time in 100 ns units (negative relative), an optional APC for this thread, a period in ms.</summary>
    public static NtStatus NtSetTimer(nint timerHandle, long* dueTime, nint timerApcRoutine, nint timerContext, bool resumeTimer, int period, int* previousState)
    {
        if (dueTime is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        return StateCall(null, new NtSetTimerRequest(timerHandle, *dueTime, (ulong)timerApcRoutine, (ulong)timerContext, period, resumeTimer ? 1u : 0), previousState);
    }

    public static NtStatus NtCancelTimer(nint timerHandle, int* currentState) => StateCall(null, new NtCancelTimerRequest(timerHandle), currentState);

    // ---- Waits and APCs ----

    /// <summary>NtWaitForSingleObject; timeout in 100 ns units (negative relative), null forever. Alertable waits run queued APCs and return STATUS_USER_APC.</summary>
    public static NtStatus NtWaitForSingleObject(nint handle, bool alertable, long* timeout) => NtWaitForSingleObject(null, handle, alertable, timeout);

    internal static NtStatus NtWaitForSingleObject(GateClient? gate, nint handle, bool alertable, long* timeout) =>
        WaitCall(gate, new NtWaitForSingleObjectRequest(handle, timeout is null ? 0 : *timeout, alertable ? 1u : 0, timeout is null ? 0u : 1), default);

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
        // Send at most one more than the limit: the kernel answers STATUS_INVALID_PARAMETER_1 for too many.
        var sent = NtWaitForMultipleObjectsRequest.HandlesToSend(count);
        Span<long> wire = stackalloc long[(int)sent];
        for (var i = 0; i < wire.Length; i++) wire[i] = handles[i];
        return WaitCall(null, new NtWaitForMultipleObjectsRequest(count, (uint)waitType, alertable ? 1u : 0, timeout is null ? 0u : 1, timeout is null ? 0 : *timeout,
            sent, 0), MemoryMarshal.AsBytes(wire));
    }

    /// <summary>NtDelayExecution: sleeps (alertably, if asked); STATUS_SUCCESS, or STATUS_USER_APC after running APCs.</summary>
    public static NtStatus NtDelayExecution(bool alertable, long* delayInterval) =>
        WaitCall(null, new NtDelayExecutionRequest(alertable ? 1u : 0, delayInterval is null ? 0u : 1, delayInterval is null ? 0 : *delayInterval), default);

    /// <summary>NtTestAlert: runs this thread's queued user APCs now.</summary>
    public static NtStatus NtTestAlert() => WaitCall(null, new NtTestAlertRequest(0), default);

    /// <summary>NtQueueApcThread: routine(argument1, argument2, argument3) on the thread's next alertable wait.</summary>
    public static NtStatus NtQueueApcThread(nint threadHandle, nint apcRoutine, nint argument1, nint argument2, nint argument3)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<NtQueueApcThreadRequest, EmptyReply>(new NtQueueApcThreadRequest(threadHandle, (ulong)apcRoutine, (ulong)argument1,
            (ulong)argument2, (ulong)argument3), default, default, out _);
    }

    /// <summary>NtOpenThread by thread id (a thread of this process the kernel has seen).</summary>
    public static NtStatus NtOpenThread(nint* threadHandle, uint desiredAccess, ObjectAttributes objectAttributes, long threadId)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        status = gate.Call<NtOpenThreadRequest, HandleReply>(new NtOpenThreadRequest(desiredAccess, (uint)objectAttributes.Attributes, threadId),
            default, default, out var reply);
        if (threadHandle is not null) *threadHandle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    /// <summary>NtSetInformationObject(ObjectHandleFlagInformation): the handle's inherit and protect-from-close flags.</summary>
    public static NtStatus NtSetInformationObject(nint handle, bool inherit, bool protectFromClose)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<NtSetInformationObjectRequest, EmptyReply>(new NtSetInformationObjectRequest(handle,
            (uint)ObjectInformationClass.ObjectHandleFlagInformation, inherit ? 1u : 0, protectFromClose ? 1u : 0, 0), default, default, out _);
    }

    // ---- Shared shapes ----

    private static byte[] NameBytes(in ObjectAttributes objectAttributes) =>
        objectAttributes.ObjectName is null ? [] : Encoding.Unicode.GetBytes(objectAttributes.ObjectName);

    private static NtStatus OpenOrCreate<TRequest>(GateClient? gate, nint* handle, in TRequest request, byte[] name)
        where TRequest : unmanaged, IRequest<HandleReply>
    {
        if (handle is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        status = gate.Call<TRequest, HandleReply>(request, name, default, out var reply);
        *handle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    private static NtStatus StateCall<TRequest>(GateClient? gate, in TRequest request, int* state) where TRequest : unmanaged, IRequest<StateReply>
    {
        if (!TryGate(ref gate, out var status)) return status;
        status = gate.Call<TRequest, StateReply>(request, default, default, out var reply);
        if (state is not null && status.IsSuccess) *state = reply.State;
        return status;
    }

    private static NtStatus QueryCall<TRequest>(in TRequest request, out QueryStateReply reply) where TRequest : unmanaged, IRequest<QueryStateReply>
    {
        reply = default;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<TRequest, QueryStateReply>(request, default, default, out reply);
    }

    /// <summary>A wait: the user APCs an alertable one brings back run on this thread before it returns.</summary>
    private static NtStatus WaitCall<TRequest>(GateClient? gate, in TRequest request, ReadOnlySpan<byte> data) where TRequest : unmanaged, IRequest<WaitReply>
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = gate.CallWithData<TRequest, WaitReply>(request, data);
        var apcCount = (int)answer.Reply.ApcCount;
        if (apcCount > 0) RunApcs(MemoryMarshal.Cast<byte, ApcRecord>(answer.Data)[..apcCount]);
        return answer.Status;
    }

    /// <summary>Runs user APCs on this thread, in the order they were queued: routine(arg1, arg2, arg3).</summary>
    internal static void RunApcs(ReadOnlySpan<ApcRecord> apcs)
    {
        foreach (var apc in apcs)
            ((delegate* unmanaged<nint, nint, nint, void>)apc.Routine)((nint)apc.Argument1, (nint)apc.Argument2, (nint)apc.Argument3);
    }
}
