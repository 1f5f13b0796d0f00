namespace KernelBridge.Ddk;

/// <summary>KSEMAPHORE.</summary>
public sealed class KSemaphore : DispatcherObject
{
    public KSemaphore(int count, int limit) : base(ObjectTypes.Semaphore)
    {
        SignalState = count;
        Limit = limit;
    }

    public int Limit { get; }
}
