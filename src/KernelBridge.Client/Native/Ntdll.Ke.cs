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

    public static NtStatus NtCreateEvent(nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes, EventType eventType, bool initialState)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(eventHandle, new NtCreateEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)eventType, initialState ? 1u : 0, (uint)name.Length, 0), name);
    }

    public static NtStatus NtOpenEvent(nint* eventHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(eventHandle, new NtOpenEventRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtSetEvent(nint eventHandle, int* previousState) => StateCall(new NtSetEventRequest(eventHandle), previousState);

    public static NtStatus NtResetEvent(nint eventHandle, int* previousState) => StateCall(new NtResetEventRequest(eventHandle), previousState);

    public static NtStatus NtPulseEvent(nint eventHandle, int* previousState) => StateCall(new NtPulseEventRequest(eventHandle), previousState);

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
        return OpenOrCreate(semaphoreHandle, new NtCreateSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialCount, maximumCount, (uint)name.Length, 0), name);
    }

    public static NtStatus NtOpenSemaphore(nint* semaphoreHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(semaphoreHandle, new NtOpenSemaphoreRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtReleaseSemaphore(nint semaphoreHandle, int releaseCount, int* previousCount) =>
        StateCall(new NtReleaseSemaphoreRequest(semaphoreHandle, releaseCount, 0), previousCount);

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
        return OpenOrCreate(mutantHandle, new NtCreateMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            initialOwner ? 1u : 0, (uint)name.Length), name);
    }

    public static NtStatus NtOpenMutant(nint* mutantHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(mutantHandle, new NtOpenMutantRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    public static NtStatus NtReleaseMutant(nint mutantHandle, int* previousCount) => StateCall(new NtReleaseMutantRequest(mutantHandle), previousCount);

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
        return OpenOrCreate(timerHandle, new NtCreateTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)timerType, (uint)name.Length), name);
    }

    public static NtStatus NtOpenTimer(nint* timerHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(timerHandle, new NtOpenTimerRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes, (uint)name.Length, 0), name);
    }

    /// <summary>NtSetTimer: due time in 100 ns units (negative relative), an optional APC for this thread, a period in ms.</summary>
    public static NtStatus NtSetTimer(nint timerHandle, long* dueTime, nint timerApcRoutine, nint timerContext, bool resumeTimer, int period, int* previousState)
    {
        if (dueTime is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        return StateCall(new NtSetTimerRequest(timerHandle, *dueTime, (ulong)timerApcRoutine, (ulong)timerContext, period, resumeTimer ? 1u : 0), previousState);
    }

    public static NtStatus NtCancelTimer(nint timerHandle, int* currentState) => StateCall(new NtCancelTimerRequest(timerHandle), currentState);

    // ---- Waits and APCs ----

    /// <summary>NtWaitForSingleObject; timeout in 100 ns units (negative relative), null forever. Alertable waits run queued APCs and return STATUS_USER_APC.</summary>
    public static NtStatus NtWaitForSingleObject(nint handle, bool alertable, long* timeout) =>
        WaitCall(new NtWaitForSingleObjectRequest(handle, timeout is null ? 0 : *timeout, alertable ? 1u : 0, timeout is null ? 0u : 1), default);

    public static NtStatus NtWaitForMultipleObjects(uint count, nint* handles, WaitType waitType, bool alertable, long* timeout)
    {
        if (handles is null && count != 0) return NtStatus.STATUS_ACCESS_VIOLATION;
        // Send at most one more than the limit: the kernel answers STATUS_INVALID_PARAMETER_1 for too many.
        var sent = NtWaitForMultipleObjectsRequest.HandlesToSend(count);
        var wire = new long[sent];
        for (var i = 0; i < sent; i++) wire[i] = handles[i];
        return WaitCall(new NtWaitForMultipleObjectsRequest(count, (uint)waitType, alertable ? 1u : 0, timeout is null ? 0u : 1, timeout is null ? 0 : *timeout,
            sent, 0), MemoryMarshal.AsBytes(wire.AsSpan()));
    }

    /// <summary>NtDelayExecution: sleeps (alertably, if asked); STATUS_SUCCESS, or STATUS_USER_APC after running APCs.</summary>
    public static NtStatus NtDelayExecution(bool alertable, long* delayInterval) =>
        WaitCall(new NtDelayExecutionRequest(alertable ? 1u : 0, delayInterval is null ? 0u : 1, delayInterval is null ? 0 : *delayInterval), default);

    /// <summary>NtTestAlert: runs this thread's queued user APCs now.</summary>
    public static NtStatus NtTestAlert() => WaitCall(new NtTestAlertRequest(0), default);

    /// <summary>NtQueueApcThread: routine(argument1, argument2, argument3) on the thread's next alertable wait.</summary>
    public static NtStatus NtQueueApcThread(nint threadHandle, nint apcRoutine, nint argument1, nint argument2, nint argument3)
    {
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<NtQueueApcThreadRequest, EmptyReply>(new NtQueueApcThreadRequest(threadHandle, (ulong)apcRoutine, (ulong)argument1,
            (ulong)argument2, (ulong)argument3), default, default, out _, out var call);
        gate.Release(call);
        return status;
    }

    /// <summary>NtOpenThread by thread id (a thread of this process the kernel has seen).</summary>
    public static NtStatus NtOpenThread(nint* threadHandle, uint desiredAccess, ObjectAttributes objectAttributes, long threadId)
    {
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<NtOpenThreadRequest, HandleReply>(new NtOpenThreadRequest(desiredAccess, (uint)objectAttributes.Attributes, threadId),
            default, default, out var reply, out var call);
        gate.Release(call);
        if (threadHandle is not null) *threadHandle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    /// <summary>NtSetInformationObject(ObjectHandleFlagInformation): the handle's inherit and protect-from-close flags.</summary>
    public static NtStatus NtSetInformationObject(nint handle, bool inherit, bool protectFromClose)
    {
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<NtSetInformationObjectRequest, EmptyReply>(new NtSetInformationObjectRequest(handle,
            (uint)ObjectInformationClass.ObjectHandleFlagInformation, inherit ? 1u : 0, protectFromClose ? 1u : 0, 0), default, default, out _, out var call);
        gate.Release(call);
        return status;
    }

    // ---- Shared shapes ----

    private static byte[] NameBytes(in ObjectAttributes objectAttributes) =>
        objectAttributes.ObjectName is null ? [] : Encoding.Unicode.GetBytes(objectAttributes.ObjectName);

    private static NtStatus OpenOrCreate<TRequest>(nint* handle, in TRequest request, byte[] name) where TRequest : unmanaged, IRequest<HandleReply>
    {
        if (handle is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<TRequest, HandleReply>(request, name, default, out var reply, out var call);
        gate.Release(call);
        *handle = status.IsSuccess ? (nint)reply.Handle : 0;
        return status;
    }

    private static NtStatus StateCall<TRequest>(in TRequest request, int* state) where TRequest : unmanaged, IRequest<StateReply>
    {
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<TRequest, StateReply>(request, default, default, out var reply, out var call);
        gate.Release(call);
        if (state is not null && status.IsSuccess) *state = reply.State;
        return status;
    }

    private static NtStatus QueryCall<TRequest>(in TRequest request, out QueryStateReply reply) where TRequest : unmanaged, IRequest<QueryStateReply>
    {
        reply = default;
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<TRequest, QueryStateReply>(request, default, default, out reply, out var call);
        gate.Release(call);
        return status;
    }

    private static NtStatus WaitCall<TRequest>(in TRequest request, ReadOnlySpan<byte> data) where TRequest : unmanaged, IRequest<WaitReply>
    {
        if (!TryGate(out var gate, out var status)) return status;
        status = gate.Call<TRequest, WaitReply>(request, data, default, out var reply, out var call);
        var apcs = reply.ApcCount == 0 ? [] : MemoryMarshal.Cast<byte, ApcRecord>(GateClient.ReplyData<WaitReply>(call))[..(int)reply.ApcCount].ToArray();
        gate.Release(call);
        RunApcs(apcs);
        return status;
    }

    /// <summary>Runs user APCs on this thread, in the order they were queued: routine(arg1, arg2, arg3).</summary>
    internal static void RunApcs(ApcRecord[] apcs)
    {
        foreach (var apc in apcs)
            ((delegate* unmanaged<nint, nint, nint, void>)apc.Routine)((nint)apc.Argument1, (nint)apc.Argument2, (nint)apc.Argument3);
    }
}
