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

/// <summary>What a look into a queue found: a message to hand back, a result, or nothing yet (or a failure status).</summary>
internal readonly record struct MessagePick(PickKind Kind, NtStatus Status, PostedMessage Message, SentMessage? Sent, long Result)
{
    public static MessagePick Nothing => new(PickKind.Nothing, NtStatus.STATUS_SUCCESS, default, null, 0);

    public static MessagePick Failed(NtStatus status) => new(PickKind.Nothing, status, default, null, 0);
}
