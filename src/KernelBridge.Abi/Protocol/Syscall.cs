namespace KernelBridge.Abi.Protocol;

/// <summary>
/// The system service numbers. Each has exactly one request struct implementing
/// <see cref="IRequest{TReply}"/> in <see cref="Requests"/>; the client stubs, the kernel's
/// dispatch table and the tracer are all derived from those declarations.
/// </summary>
public enum Syscall : ushort
{
    NtClose = 1,
    NtCreateFile = 2,
    NtReadFile = 3,
    NtWriteFile = 4,
    NtDeviceIoControlFile = 5,
    NtDuplicateObject = 6,
    NtQueryObject = 7,
    NtQueryDirectoryObject = 8,
    NtQueryInformationFile = 9,
    NtLoadDriver = 10,
    NtUnloadDriver = 11,
    NtOpenDirectoryObject = 12,
    NtOpenSymbolicLinkObject = 13,
    NtQuerySymbolicLinkObject = 14,
    NtSetInformationFile = 15,
    NtCancelIoFile = 16,
    NtCancelIoFileEx = 17,
    NtCancelSynchronousIoFile = 18,

    NtCreateEvent = 20,
    NtOpenEvent = 21,
    NtSetEvent = 22,
    NtResetEvent = 23,
    NtPulseEvent = 24,
    NtQueryEvent = 25,
    NtCreateSemaphore = 26,
    NtOpenSemaphore = 27,
    NtReleaseSemaphore = 28,
    NtQuerySemaphore = 29,
    NtCreateMutant = 30,
    NtOpenMutant = 31,
    NtReleaseMutant = 32,
    NtQueryMutant = 33,
    NtCreateTimer = 34,
    NtOpenTimer = 35,
    NtSetTimer = 36,
    NtCancelTimer = 37,
    NtWaitForSingleObject = 40,
    NtWaitForMultipleObjects = 41,
    NtDelayExecution = 42,
    NtTestAlert = 43,
    NtQueueApcThread = 44,
    NtOpenThread = 45,
    NtCreateIoCompletion = 50,
    NtOpenIoCompletion = 51,
    NtSetIoCompletion = 52,
    NtRemoveIoCompletion = 53,
    NtQueryIoCompletion = 54,
    NtSetInformationObject = 55,

    // KernelBridge's own services (Kb prefix): management of the kernel host itself.
    KbQueryKernelState = 200,
    KbQueryDrivers = 201,
    KbShutdownKernel = 202,
    /// <summary>Cancels one of the caller's own waits by its call sequence (what an async wait's CancellationToken does).</summary>
    KbCancelWait = 203,
}

/// <summary>A request layout; the static member binds it to its service number and reply layout.</summary>
public interface IRequest<TReply> where TReply : unmanaged
{
    static abstract Syscall Number { get; }
}

/// <summary>The reply of a service that returns nothing but its status.</summary>
public record struct EmptyReply(int Reserved);

/// <summary>IO_STATUS_BLOCK as it travels: the final status and Information.</summary>
public record struct IoStatusWire(int Status, int Reserved, long Information);
