using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>FLT_OPERATION_REGISTRATION: the callbacks for one major function.</summary>
public readonly record struct FltOperationRegistration(IrpMajorFunction MajorFunction, FltPreOperationCallback? PreOperation,
    FltPostOperationCallback? PostOperation);

/// <summary>FLT_CONTEXT_REGISTRATION: a context type the filter uses, and what to do when one is freed.</summary>
public readonly record struct FltContextRegistration(FltContextType ContextType, FltContextCleanupCallback? CleanupCallback);

/// <summary>
/// FLT_REGISTRATION. The altitude, which Windows reads from the filter's INF (the registry), is
/// part of the registration here: a decimal number, higher is nearer the caller.
/// </summary>
public sealed class FltRegistration
{
    public IReadOnlyList<FltOperationRegistration> OperationRegistration { get; init; } = [];
    public IReadOnlyList<FltContextRegistration> ContextRegistration { get; init; } = [];
    public string Altitude { get; init; } = "";
    public FltInstanceSetupCallback? InstanceSetupCallback { get; init; }
    /// <summary>Asked before a manual detach; without one, FltDetachVolume is always refused (STATUS_FLT_DO_NOT_DETACH).</summary>
    public FltInstanceQueryTeardownCallback? InstanceQueryTeardownCallback { get; init; }
    public FltInstanceTeardownCallback? InstanceTeardownStartCallback { get; init; }
    public FltInstanceTeardownCallback? InstanceTeardownCompleteCallback { get; init; }
}
