namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// A message sent to a window of another thread: on its receiver's sent list until the receiver
/// takes it, then among the receiver's messages in progress until it answers. The sender (none for
/// SendNotifyMessage) waits for <see cref="Replied"/>. Callers hold the user lock.
/// </summary>
internal sealed class SentMessage
{
    public ulong Id { get; init; }
    public required MessageQueue Receiver { get; init; }
    /// <summary>Who waits for the result; null for SendNotifyMessage.</summary>
    public MessageQueue? Sender { get; init; }
    public long Hwnd { get; init; }
    public uint Message { get; init; }
    public long WParam { get; init; }
    public long LParam { get; init; }
    /// <summary>WM_COPYDATA's bytes (the receiver gets a copy valid during the call).</summary>
    public byte[]? Payload { get; init; }
    /// <summary>SendMessageTimeout's deadline (Timeouts' form); Never otherwise.</summary>
    public long Deadline { get; init; }
    /// <summary>SMTO_BLOCK: the sender runs no messages sent to it while it waits.</summary>
    public bool Blocking { get; init; }

    public bool Replied { get; private set; }
    public long Result { get; private set; }
    public NtStatus Status { get; private set; }

    public void Complete(long result, NtStatus status)
    {
        if (Replied) return;
        Replied = true;
        Result = result;
        Status = status;
    }
}
