namespace KernelBridge.Ddk;

/// <summary>The process manager's exports.</summary>
internal partial interface IKernelRuntime
{
    int CurrentProcessId { get; }
    KernelObject? CurrentProcess { get; }
}
