namespace KernelBridge.Kernel.Io;

/// <summary>What an I/O outcome tells the caller.</summary>
internal enum IoOutcomeKind
{
    /// <summary>The call returns now, with its final result.</summary>
    Answer,
    /// <summary>The call returns now with a status the driver gave without completing the IRP: the caller's memory is not written.</summary>
    EarlyAnswer,
    /// <summary>The call returns STATUS_PENDING now (an overlapped request); a <see cref="Completion"/> follows.</summary>
    Pending,
    /// <summary>The later end of a call that returned <see cref="Pending"/>.</summary>
    Completion,
}

/// <summary>
/// How an I/O request ended, as the I/O manager's completion rules (IopCompleteRequest) decide
/// it: the status the call returns, whether the caller's IOSB is written and with what, and the
/// output bytes that go back to the caller's buffer (valid only during the call to the target).
/// </summary>
internal readonly ref struct IoOutcome
{
    public IoOutcomeKind Kind { get; init; }

    /// <summary>What the system call returns (for a completion: the IOSB's status).</summary>
    public NtStatus Status { get; init; }

    public bool IosbWritten { get; init; }
    public NtStatus IosbStatus { get; init; }
    public long Information { get; init; }

    /// <summary>Set when <see cref="Output"/> goes to the caller's buffer (it may be empty).</summary>
    public bool OutputWritten { get; init; }
    public ReadOnlySpan<byte> Output { get; init; }
}

/// <summary>
/// Where an I/O request's outcome goes: the transport that answers the caller, or a system
/// service's continuation (NtCreateFile makes the handle there). <paramref name="tag"/> is the
/// target's own (the gate's call sequence); the I/O manager only hands it back.
/// </summary>
internal interface IIoCompletionTarget
{
    void Complete(ulong tag, in IoOutcome outcome);
}
