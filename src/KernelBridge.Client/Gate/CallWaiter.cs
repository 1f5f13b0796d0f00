namespace KernelBridge.Client.Gate;

/// <summary>How the caller of a system call learns that it ended.</summary>
internal enum CallWaiter : byte
{
    /// <summary>A thread blocks in <see cref="GateCall.Wait"/>, then reads the reply and gives the call back.</summary>
    Blocking,

    /// <summary>Awaited as a <see cref="ValueTask{NtStatus}"/>; GetResult gives the call back.</summary>
    Awaited,

    /// <summary>Nobody waits (a cancel sent from a token's callback): the completer gives the call back.</summary>
    Detached,
}
