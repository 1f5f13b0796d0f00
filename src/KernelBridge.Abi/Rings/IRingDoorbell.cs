namespace KernelBridge.Abi.Rings;

/// <summary>
/// The one blocking primitive a ring needs, supplied by the platform layer (a futex on Linux):
/// sleep on a 32-bit word of the shared region while it holds a value, and wake its sleepers.
/// The word is shared between processes, so the implementation must not be process-private.
/// </summary>
public unsafe interface IRingDoorbell
{
    /// <summary>
    /// Sleeps while <c>*word == expected</c>, for at most <paramref name="timeoutMilliseconds"/>.
    /// May return early (a wake, a changed word, a signal): callers re-check their condition.
    /// </summary>
    void Wait(uint* word, uint expected, int timeoutMilliseconds);

    /// <summary>Wakes up to <paramref name="waiters"/> threads sleeping on <paramref name="word"/>, in any process.</summary>
    void Wake(uint* word, int waiters);
}
