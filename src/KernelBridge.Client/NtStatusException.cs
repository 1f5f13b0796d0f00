using KernelBridge.Abi;

namespace KernelBridge.Client;

/// <summary>The idiomatic layer's failure: a call returned an error status. Carries the status and its Win32 error.</summary>
public sealed class NtStatusException : Exception
{
    public NtStatusException(NtStatus status, string operation)
        : base($"{operation} failed: {status} (Win32 {StatusMapping.Name(StatusMapping.RtlNtStatusToDosError(status))})")
    {
        Status = status;
        Operation = operation;
    }

    public NtStatusException(NtStatus status, string operation, string detail)
        : base($"{operation} failed: {status} (Win32 {StatusMapping.Name(StatusMapping.RtlNtStatusToDosError(status))}): {detail}")
    {
        Status = status;
        Operation = operation;
    }

    public NtStatus Status { get; }
    public string Operation { get; }
    public Win32Error Win32Error => StatusMapping.RtlNtStatusToDosError(Status);

    /// <summary>Throws unless NT_SUCCESS (a warning such as STATUS_BUFFER_OVERFLOW throws too).</summary>
    public static void ThrowIfFailed(NtStatus status, string operation)
    {
        if (!status.IsSuccess) throw new NtStatusException(status, operation);
    }

    /// <summary>Throws only for NT_ERROR (warnings pass).</summary>
    public static void ThrowIfError(NtStatus status, string operation)
    {
        if (status.IsError) throw new NtStatusException(status, operation);
    }
}
