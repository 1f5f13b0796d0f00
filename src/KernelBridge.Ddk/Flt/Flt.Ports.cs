using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The Filter Manager's exports (Flt*). This part: communication ports, the message channel between
/// a minifilter and user-mode applications (FilterConnectCommunicationPort, FilterGetMessage,
/// FilterReplyMessage, FilterSendMessage on the user side). Each call takes the filter, or for a
/// driver that registered none, its driver object.
/// </summary>
public static partial class Flt
{
    /// <summary>
    /// FltCreateCommunicationPort: a server port named <paramref name="portName"/> (a full path, such
    /// as \ScannerPort) that user processes connect to. <paramref name="maxConnections"/> (at least 1)
    /// bounds the connections open at once. <paramref name="securityDescriptor"/> (SDDL, or null) is
    /// kept with the port. Close it with <see cref="CloseCommunicationPort"/>, at the latest in
    /// DriverUnload: closing it refuses new connections and leaves existing ones open.
    /// </summary>
    public static NtStatus CreateCommunicationPort(FltFilter filter, out FltPort? serverPort, string portName, string? securityDescriptor,
        object? serverPortCookie, FltConnectNotify connectNotify, FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify,
        int maxConnections)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return CreateCommunicationPort(filter.DriverObject, out serverPort, portName, securityDescriptor, serverPortCookie, connectNotify, disconnectNotify,
            messageNotify, maxConnections);
    }

    /// <summary>FltCreateCommunicationPort for a driver that is not a registered minifilter.</summary>
    public static NtStatus CreateCommunicationPort(DriverObject driver, out FltPort? serverPort, string portName, string? securityDescriptor,
        object? serverPortCookie, FltConnectNotify connectNotify, FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify,
        int maxConnections)
    {
        ArgumentNullException.ThrowIfNull(driver);
        return KernelRuntime.Of(driver).FltCreateCommunicationPort(driver, out serverPort, portName, securityDescriptor, serverPortCookie, connectNotify,
            disconnectNotify, messageNotify, maxConnections);
    }

    /// <summary>FltCloseCommunicationPort: the name goes and no one can connect any more; open connections stay.</summary>
    public static void CloseCommunicationPort(FltPort serverPort)
    {
        ArgumentNullException.ThrowIfNull(serverPort);
        KernelRuntime.Of(serverPort).FltCloseCommunicationPort(serverPort);
    }

    /// <summary>
    /// FltCloseClientPort: ends the connection from the kernel's side and sets <paramref name="clientPort"/>
    /// to null. The user's pending FilterGetMessage calls fail with STATUS_PORT_DISCONNECTED (ERROR_INVALID_HANDLE),
    /// as do this port's pending sends. Does nothing if it is already null.
    /// </summary>
    public static void CloseClientPort(FltFilter filter, ref FltPort? clientPort)
    {
        ArgumentNullException.ThrowIfNull(filter);
        CloseClientPort(filter.DriverObject, ref clientPort);
    }

    public static void CloseClientPort(DriverObject driver, ref FltPort? clientPort)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var port = Interlocked.Exchange(ref clientPort, null);
        if (port is not null) KernelRuntime.Of(port).FltCloseClientPort(driver, port);
    }

    /// <summary>
    /// FltSendMessage, without blocking a thread: sends <paramref name="senderBuffer"/> to the user
    /// side of <paramref name="clientPort"/>. With a <paramref name="replyBuffer"/> it ends when
    /// FilterReplyMessage answers (ReplyLength = bytes written; STATUS_BUFFER_OVERFLOW if the reply
    /// was cut to fit); without one, when a FilterGetMessage has taken the message.
    /// <paramref name="timeout"/> is in 100 ns units, negative relative, positive absolute, null for
    /// none; it covers delivery and reply together, and ends the call with STATUS_TIMEOUT (0 with no
    /// FilterGetMessage waiting: at once). A connection that ends gives STATUS_PORT_DISCONNECTED.
    /// The buffers must stay untouched until the task completes. Use this form in dispatch routines.
    /// </summary>
    public static ValueTask<FltSendMessageResult> SendMessageAsync(FltFilter filter, FltPort? clientPort, ReadOnlyMemory<byte> senderBuffer,
        Memory<byte>? replyBuffer, long? timeout)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return SendMessageAsync(filter.DriverObject, clientPort, senderBuffer, replyBuffer, timeout);
    }

    public static ValueTask<FltSendMessageResult> SendMessageAsync(DriverObject driver, FltPort? clientPort, ReadOnlyMemory<byte> senderBuffer,
        Memory<byte>? replyBuffer, long? timeout)
    {
        ArgumentNullException.ThrowIfNull(driver);
        if (clientPort is null) return ValueTask.FromResult(new FltSendMessageResult(NtStatus.STATUS_PORT_DISCONNECTED, 0));
        return KernelRuntime.Of(clientPort).FltSendMessageAsync(driver, clientPort, senderBuffer, replyBuffer, timeout);
    }

    /// <summary>
    /// FltSendMessage, blocking the calling thread until <see cref="SendMessageAsync(FltFilter, FltPort?, ReadOnlyMemory{byte}, Memory{byte}?, long?)"/>
    /// would complete. Call it from a work item, a thread of the driver's own, or a dispatch routine
    /// serving another process. Called from a dispatch routine on behalf of the very process the port
    /// connects to, it would wait for a reply that process cannot send (its requests are served in
    /// order, and this one is not finished), so it fails at once with STATUS_POSSIBLE_DEADLOCK.
    /// </summary>
    public static NtStatus SendMessage(FltFilter filter, ref FltPort? clientPort, ReadOnlyMemory<byte> senderBuffer, Memory<byte>? replyBuffer,
        out int replyLength, long? timeout)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return SendMessage(filter.DriverObject, ref clientPort, senderBuffer, replyBuffer, out replyLength, timeout);
    }

    public static NtStatus SendMessage(DriverObject driver, ref FltPort? clientPort, ReadOnlyMemory<byte> senderBuffer, Memory<byte>? replyBuffer,
        out int replyLength, long? timeout)
    {
        ArgumentNullException.ThrowIfNull(driver);
        replyLength = 0;
        var port = Volatile.Read(ref clientPort);
        if (port is null) return NtStatus.STATUS_PORT_DISCONNECTED;
        var result = KernelRuntime.Of(port).FltSendMessage(driver, port, senderBuffer, replyBuffer, timeout);
        replyLength = result.ReplyLength;
        return result.Status;
    }
}
