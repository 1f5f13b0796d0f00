namespace KernelBridge.Ddk;

/// <summary>The driver verifier's hooks in the Ddk.</summary>
internal partial interface IKernelRuntime
{
    /// <summary>A Ddk routine was called on an IRP that has completed: a verified driver's bug check (it does not return then).</summary>
    void IrpUsedAfterCompletion(Irp irp, string routine);
}
