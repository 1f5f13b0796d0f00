namespace KernelBridge.Ddk;

/// <summary>KDPC: a deferred procedure call, run when a kernel timer expires.</summary>
public sealed class KDpc(KDeferredRoutine routine, object? context)
{
    public KDeferredRoutine Routine { get; } = routine;
    public object? Context { get; } = context;
}

/// <summary>KDEFERRED_ROUTINE.</summary>
public delegate void KDeferredRoutine(KDpc dpc, object? deferredContext, object? systemArgument1, object? systemArgument2);
