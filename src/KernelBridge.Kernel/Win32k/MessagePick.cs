namespace KernelBridge.Kernel.Win32k;

/// <summary>What a look into a queue found.</summary>
internal enum PickKind
{
    Nothing,
    Posted,
    Quit,
    Sent,
    SendResult,
    Input,
}

/// <summary>
/// What a look into a queue found: a message to hand back (for a sent one, a copy of it with its id
/// and bytes: the pooled message itself never leaves the lock), a result, or nothing yet (or a failure status).
/// </summary>
internal readonly record struct MessagePick(PickKind Kind, NtStatus Status, PostedMessage Message, ulong SentId, byte[]? Payload, long Result)
{
    public static MessagePick Nothing => new(PickKind.Nothing, NtStatus.STATUS_SUCCESS, default, 0, null, 0);

    public static MessagePick Failed(NtStatus status) => new(PickKind.Nothing, status, default, 0, null, 0);
}

/// <summary>A send of the calling thread still waiting: what its wait needs to know.</summary>
internal readonly record struct OutstandingSend(ulong Id, bool Blocking, long Deadline);
