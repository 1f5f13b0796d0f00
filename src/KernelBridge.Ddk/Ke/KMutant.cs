namespace KernelBridge.Ddk;

/// <summary>KMUTANT: owned by a thread, recursively; abandoned if its owner dies holding it.</summary>
public sealed class KMutant : DispatcherObject
{
    public KMutant() : base(ObjectTypes.Mutant) => SignalState = 1;

    /// <summary>The owning thread, or null when free (guarded by the dispatcher lock).</summary>
    internal KThread? OwnerThread;
    internal bool Abandoned;
}
