namespace KernelBridge.TestClient;

/// <summary>What a victim (<see cref="VictimMode"/>) is doing; its number is what it writes to its state file when it starts one.</summary>
public enum VictimOperation : byte
{
    Starting = 0,
    SyncIoctl = 1,
    PendingIoctl = 2,
    TimerIoctl = 3,
    Wait = 4,
    MappedView = 5,
    RingProducer = 6,
    PortReply = 7,
    SendMessage = 8,
}
