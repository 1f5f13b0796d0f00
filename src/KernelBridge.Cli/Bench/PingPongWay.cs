namespace KernelBridge.Cli.Bench;

/// <summary>How a side of a raw shared-memory ping-pong waits for the other's word to move.</summary>
internal enum PingPongWay
{
    /// <summary>Spins on the word (one spinning thread a side), giving its vCPU away when the other side is late.</summary>
    Polling,

    /// <summary>Sleeps on the word in FUTEX_WAIT; the other side's FUTEX_WAKE wakes it. Never spins.</summary>
    Futex,
}
