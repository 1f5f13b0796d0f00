using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>KEVENT. Drivers may make their own (KeInitializeEvent) or reference a user's by handle.</summary>
public sealed class KEvent : DispatcherObject
{
    public KEvent(EventType type, bool initialState) : base(ObjectTypes.Event)
    {
        Type = type;
        SignalState = initialState ? 1 : 0;
    }

    public EventType Type { get; }
}
