namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// A message sent to a window of another thread: on its receiver's sent list until the receiver
/// takes it, then among the receiver's messages in progress until it answers. The sender (none for
/// SendNotifyMessage) waits for <see cref="Replied"/>. Pooled: it goes back to the pool once neither
/// side holds it (<see cref="HeldByReceiver"/>, <see cref="HeldBySender"/>); ids are never reused,
/// so a stale id finds nothing. Guarded by the user lock; nothing reads it outside.
/// </summary>
internal sealed class SentMessage
{
    public ulong Id { get; private set; }
    public MessageQueue Receiver { get; private set; } = null!;
    /// <summary>Who waits for the result; null for SendNotifyMessage.</summary>
    public MessageQueue? Sender { get; private set; }
    public long Hwnd { get; private set; }
    public uint Message { get; private set; }
    public long WParam { get; private set; }
    public long LParam { get; private set; }
    /// <summary>WM_COPYDATA's bytes (the receiver gets a copy valid during the call).</summary>
    public byte[]? Payload { get; private set; }
    /// <summary>SendMessageTimeout's deadline (Timeouts' form); Never otherwise.</summary>
    public long Deadline { get; private set; }
    /// <summary>SMTO_BLOCK: the sender runs no messages sent to it while it waits.</summary>
    public bool Blocking { get; private set; }

    public bool Replied { get; private set; }
    public long Result { get; private set; }
    public NtStatus Status { get; private set; }

    /// <summary>On the receiver's sent list or among its messages in progress.</summary>
    public bool HeldByReceiver { get; set; }
    /// <summary>Among the sender's sends waiting for a result.</summary>
    public bool HeldBySender { get; set; }

    public void Prepare(ulong id, MessageQueue receiver, MessageQueue? sender, long hwnd, uint message, long wParam, long lParam, byte[]? payload,
        long deadline, bool blocking)
    {
        Id = id;
        Receiver = receiver;
        Sender = sender;
        Hwnd = hwnd;
        Message = message;
        WParam = wParam;
        LParam = lParam;
        Payload = payload;
        Deadline = deadline;
        Blocking = blocking;
        Replied = false;
        Result = 0;
        Status = NtStatus.STATUS_SUCCESS;
        HeldByReceiver = true;
        HeldBySender = sender is not null;
    }

    /// <summary>Drops what it refers to, for the pool.</summary>
    public void Clear()
    {
        Receiver = null!;
        Sender = null;
        Payload = null;
    }

    public void Complete(long result, NtStatus status)
    {
        if (Replied) return;
        Replied = true;
        Result = result;
        Status = status;
    }
}
