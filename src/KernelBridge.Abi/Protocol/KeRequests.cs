using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Dispatcher objects, waits and APCs. Object names follow each create/open request (UTF-16); a
// create's security descriptor (self-relative, none if empty) follows the name.
// Timeouts are NT times: 100 ns units, negative relative, positive absolute; HasTimeout = 0 waits forever.

[StructLayout(LayoutKind.Sequential)]
[Syscall(20)]
public partial record struct NtCreateEventRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint EventType, uint InitialState, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

/// <summary>The open request every named dispatcher type shares in shape (each has its own number).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(21)]
public partial record struct NtOpenEventRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtSetEvent / NtResetEvent / NtPulseEvent take a handle and give the previous state.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(22)]
public partial record struct NtSetEventRequest(long Handle) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(23)]
public partial record struct NtResetEventRequest(long Handle) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(24)]
public partial record struct NtPulseEventRequest(long Handle) : IRequest<StateReply>;

/// <summary>The previous (or current) state or count an operation reports.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct StateReply(int State, int Reserved);

[StructLayout(LayoutKind.Sequential)]
[Syscall(25)]
public partial record struct NtQueryEventRequest(long Handle) : IRequest<QueryStateReply>;

/// <summary>EVENT_BASIC_INFORMATION {type, state}; SEMAPHORE_BASIC_INFORMATION {count, max}; MUTANT_BASIC_INFORMATION {count, owned by caller, abandoned}.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct QueryStateReply(int Value1, int Value2, int Value3, int Reserved);

[StructLayout(LayoutKind.Sequential)]
[Syscall(26)]
public partial record struct NtCreateSemaphoreRequest(long RootDirectory, uint DesiredAccess, uint Attributes, int InitialCount, int MaximumCount, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(27)]
public partial record struct NtOpenSemaphoreRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(28)]
public partial record struct NtReleaseSemaphoreRequest(long Handle, int ReleaseCount, int Reserved) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(29)]
public partial record struct NtQuerySemaphoreRequest(long Handle) : IRequest<QueryStateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(30)]
public partial record struct NtCreateMutantRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint InitialOwner, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(31)]
public partial record struct NtOpenMutantRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(32)]
public partial record struct NtReleaseMutantRequest(long Handle) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(33)]
public partial record struct NtQueryMutantRequest(long Handle) : IRequest<QueryStateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(34)]
public partial record struct NtCreateTimerRequest(long RootDirectory, uint DesiredAccess, uint Attributes, uint TimerType, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, [Data("SecurityDescriptor")] uint SecurityDescriptorBytes) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(35)]
public partial record struct NtOpenTimerRequest(long RootDirectory, uint DesiredAccess, uint Attributes, [Data("ObjectName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<HandleReply>;

/// <summary>NtSetTimer: due time (NT time), optional APC to the setting thread, period in ms.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(36)]
public partial record struct NtSetTimerRequest(long Handle, long DueTime, ulong ApcRoutine, ulong ApcContext, int Period, uint Resume) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(37)]
public partial record struct NtCancelTimerRequest(long Handle) : IRequest<StateReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(40)]
public partial record struct NtWaitForSingleObjectRequest(long Handle, long Timeout, uint Alertable, uint HasTimeout) : IRequest<WaitReply>;

/// <summary>Followed by Count handles (8 bytes each). WaitType: 0 WaitAll, 1 WaitAny.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(41)]
public partial record struct NtWaitForMultipleObjectsRequest(
    uint Count, uint WaitType, uint Alertable, uint HasTimeout, long Timeout,
    [Data("Handles", Element = typeof(long), MaxCount = NtWaitForMultipleObjectsRequest.MaxHandlesSent)] uint HandlesSent, uint Reserved) : IRequest<WaitReply>
{
    /// <summary>MAXIMUM_WAIT_OBJECTS.</summary>
    public const int MaximumWaitObjects = 64;

    /// <summary>At most one handle more than the limit travels: enough for the kernel to answer STATUS_INVALID_PARAMETER_1.</summary>
    public const int MaxHandlesSent = MaximumWaitObjects + 1;

    /// <summary>How many of <paramref name="count"/> handles the client sends (the one rule both sides follow).</summary>
    public static uint HandlesToSend(uint count) => Math.Min(count, MaxHandlesSent);
}

[StructLayout(LayoutKind.Sequential)]
[Syscall(42)]
public partial record struct NtDelayExecutionRequest(uint Alertable, uint HasInterval, long Interval) : IRequest<WaitReply>;

/// <summary>NtTestAlert: deliver this thread's queued user APCs now.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(43)]
public partial record struct NtTestAlertRequest(uint Reserved) : IRequest<WaitReply>;

/// <summary>
/// The reply of anything that waits: the status says how the wait ended; when it is
/// STATUS_USER_APC, ApcCount <see cref="ApcRecord"/>s follow, to run on the waiting thread in order.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct WaitReply([Data("Apcs", Element = typeof(ApcRecord), MaxCount = WaitReply.MaxApcs)] uint ApcCount, uint Reserved)
{
    /// <summary>The most APCs one reply delivers (the rest wait for the next alertable wait).</summary>
    public const int MaxApcs = 4096;
}

/// <summary>A user APC to run: routine(Argument1, Argument2, Argument3). For an I/O APC: (ApcContext, IoStatusBlock, 0).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct ApcRecord(ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3);

[StructLayout(LayoutKind.Sequential)]
[Syscall(44)]
public partial record struct NtQueueApcThreadRequest(long Thread, ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3) : IRequest<EmptyReply>;

/// <summary>NtOpenThread by CLIENT_ID's thread id (threads of the caller's own process).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(45)]
public partial record struct NtOpenThreadRequest(uint DesiredAccess, uint Attributes, long ThreadId) : IRequest<HandleReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(203)]
public partial record struct KbCancelWaitRequest(uint Sequence, uint Reserved) : IRequest<EmptyReply>;

/// <summary>NtSetInformationObject(ObjectHandleFlagInformation): {Inherit, ProtectFromClose}.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(55)]
public partial record struct NtSetInformationObjectRequest(long Handle, uint InformationClass, uint Inherit, uint ProtectFromClose, uint Reserved) : IRequest<EmptyReply>;
