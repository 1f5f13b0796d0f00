using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Dispatcher objects, waits and APCs. Object names follow each create/open request (UTF-16).
// Timeouts are NT times: 100 ns units, negative relative, positive absolute; HasTimeout = 0 waits forever.

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateEventRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint EventType, uint InitialState, uint NameBytes, uint Reserved)
    : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtCreateEvent;
}

/// <summary>The open request every named dispatcher type shares in shape (each has its own number).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenEventRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenEvent;
}

/// <summary>NtSetEvent / NtResetEvent / NtPulseEvent take a handle and give the previous state.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtSetEventRequest(long Handle) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtSetEvent;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtResetEventRequest(long Handle) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtResetEvent;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtPulseEventRequest(long Handle) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtPulseEvent;
}

/// <summary>The previous (or current) state or count an operation reports.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct StateReply(int State, int Reserved);

[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryEventRequest(long Handle) : IRequest<QueryStateReply>
{
    public static Syscall Number => Syscall.NtQueryEvent;
}

/// <summary>EVENT_BASIC_INFORMATION {type, state}; SEMAPHORE_BASIC_INFORMATION {count, max}; MUTANT_BASIC_INFORMATION {count, owned by caller, abandoned}.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct QueryStateReply(int Value1, int Value2, int Value3, int Reserved);

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateSemaphoreRequest(long RootDirectory, uint DesiredAccess, uint Attributes, int InitialCount, int MaximumCount, uint NameBytes, uint Reserved)
    : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtCreateSemaphore;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenSemaphoreRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenSemaphore;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtReleaseSemaphoreRequest(long Handle, int ReleaseCount, int Reserved) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtReleaseSemaphore;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtQuerySemaphoreRequest(long Handle) : IRequest<QueryStateReply>
{
    public static Syscall Number => Syscall.NtQuerySemaphore;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateMutantRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint InitialOwner, uint NameBytes) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtCreateMutant;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenMutantRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenMutant;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtReleaseMutantRequest(long Handle) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtReleaseMutant;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtQueryMutantRequest(long Handle) : IRequest<QueryStateReply>
{
    public static Syscall Number => Syscall.NtQueryMutant;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtCreateTimerRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint TimerType, uint NameBytes) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtCreateTimer;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenTimerRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint NameBytes, uint Reserved) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenTimer;
}

/// <summary>NtSetTimer: due time (NT time), optional APC to the setting thread, period in ms.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtSetTimerRequest(long Handle, long DueTime, ulong ApcRoutine, ulong ApcContext, int Period, uint Resume) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtSetTimer;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtCancelTimerRequest(long Handle) : IRequest<StateReply>
{
    public static Syscall Number => Syscall.NtCancelTimer;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtWaitForSingleObjectRequest(long Handle, long Timeout, uint Alertable, uint HasTimeout) : IRequest<WaitReply>
{
    public static Syscall Number => Syscall.NtWaitForSingleObject;
}

/// <summary>Followed by Count handles (8 bytes each). WaitType: 0 WaitAll, 1 WaitAny.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtWaitForMultipleObjectsRequest(uint Count, uint WaitType, uint Alertable, uint HasTimeout, long Timeout) : IRequest<WaitReply>
{
    public static Syscall Number => Syscall.NtWaitForMultipleObjects;
}

[StructLayout(LayoutKind.Sequential)]
public record struct NtDelayExecutionRequest(uint Alertable, uint HasInterval, long Interval) : IRequest<WaitReply>
{
    public static Syscall Number => Syscall.NtDelayExecution;
}

/// <summary>NtTestAlert: deliver this thread's queued user APCs now.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtTestAlertRequest(uint Reserved) : IRequest<WaitReply>
{
    public static Syscall Number => Syscall.NtTestAlert;
}

/// <summary>
/// The reply of anything that waits: the status says how the wait ended; when it is
/// STATUS_USER_APC, ApcCount <see cref="ApcRecord"/>s follow, to run on the waiting thread in order.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct WaitReply(uint ApcCount, uint Reserved);

/// <summary>A user APC to run: routine(Argument1, Argument2, Argument3). For an I/O APC: (ApcContext, IoStatusBlock, 0).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ApcRecord(ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3);

[StructLayout(LayoutKind.Sequential)]
public record struct NtQueueApcThreadRequest(long Thread, ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtQueueApcThread;
}

/// <summary>NtOpenThread by CLIENT_ID's thread id (threads of the caller's own process).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtOpenThreadRequest(uint DesiredAccess, uint Attributes, long ThreadId) : IRequest<HandleReply>
{
    public static Syscall Number => Syscall.NtOpenThread;
}

[StructLayout(LayoutKind.Sequential)]
public record struct KbCancelWaitRequest(uint Sequence, uint Reserved) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.KbCancelWait;
}

/// <summary>NtSetInformationObject(ObjectHandleFlagInformation): {Inherit, ProtectFromClose}.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NtSetInformationObjectRequest(long Handle, uint InformationClass, uint Inherit, uint ProtectFromClose, uint Reserved) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.NtSetInformationObject;
}
