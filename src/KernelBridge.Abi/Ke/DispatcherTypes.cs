namespace KernelBridge.Abi;

/// <summary>EVENT_TYPE.</summary>
public enum EventType
{
    /// <summary>Manual reset: stays signalled, releasing every waiter.</summary>
    NotificationEvent = 0,
    /// <summary>Auto reset: one satisfied wait resets it.</summary>
    SynchronizationEvent = 1,
}

/// <summary>TIMER_TYPE.</summary>
public enum TimerType
{
    NotificationTimer = 0,
    SynchronizationTimer = 1,
}
