using KernelBridge.Abi.Rings;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>The rings' doorbell on Linux: a shared (not process-private) futex on the word itself.</summary>
public sealed unsafe class FutexDoorbell : IRingDoorbell
{
    public static FutexDoorbell Instance { get; } = new();

    private FutexDoorbell()
    {
    }

    /// <summary>One bounded FUTEX_WAIT. Early returns (EAGAIN, EINTR) are fine: the ring re-checks and waits again.</summary>
    public void Wait(uint* word, uint expected, int timeoutMilliseconds)
    {
        if (timeoutMilliseconds <= 0) return;
        Libc.FutexWait(word, expected, timeoutMilliseconds);
    }

    public void Wake(uint* word, int waiters) => Libc.FutexWake(word, waiters);
}
