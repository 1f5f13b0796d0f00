using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// PFLT_CONNECT_NOTIFY: a user process asks to connect. Runs in the connecting process's context.
/// Return a success status to accept (and keep <paramref name="clientPort"/> for
/// <see cref="Flt.SendMessage(FltFilter, ref FltPort?, ReadOnlyMemory{byte}, Memory{byte}?, out int, long?)"/> and
/// <see cref="Flt.CloseClientPort(FltFilter, ref FltPort?)"/>); a failure status refuses the connection and
/// reaches the caller of FilterConnectCommunicationPort.
/// </summary>
public delegate NtStatus FltConnectNotify(FltPort clientPort, object? serverPortCookie, ReadOnlySpan<byte> connectionContext,
    out object? connectionPortCookie);

/// <summary>
/// PFLT_DISCONNECT_NOTIFY: the user side of a connection went (its handle closed, or its process
/// ended). Called once per connection, unless the driver closed the client port first. The driver
/// should close the client port here (<see cref="Flt.CloseClientPort(FltFilter, ref FltPort?)"/>).
/// </summary>
public delegate void FltDisconnectNotify(object? connectionCookie);

/// <summary>
/// PFLT_MESSAGE_NOTIFY: FilterSendMessage from the user side, in the sender's context. Write at most
/// <paramref name="output"/>.Length bytes and say how many in <paramref name="returnOutputBufferLength"/>;
/// the status is what FilterSendMessage returns (as an HRESULT).
/// </summary>
public delegate NtStatus FltMessageNotify(object? portCookie, ReadOnlySpan<byte> input, Span<byte> output, out int returnOutputBufferLength);

/// <summary>What FltSendMessage returns: the status, and the bytes of reply written (0 without a reply).</summary>
public readonly record struct FltSendMessageResult(NtStatus Status, int ReplyLength);
