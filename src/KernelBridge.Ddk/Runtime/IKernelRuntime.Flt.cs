using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The Filter Manager's communication ports, as the Ddk's <see cref="Flt"/> reaches them.</summary>
internal partial interface IKernelRuntime
{
    NtStatus FltCreateCommunicationPort(DriverObject driver, out FltPort? serverPort, string portName, string? securityDescriptor, object? serverPortCookie,
        FltConnectNotify connectNotify, FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify, int maxConnections);
    void FltCloseCommunicationPort(FltPort serverPort);
    void FltCloseClientPort(DriverObject driver, FltPort clientPort);
    ValueTask<FltSendMessageResult> FltSendMessageAsync(DriverObject driver, FltPort clientPort, ReadOnlyMemory<byte> senderBuffer, Memory<byte>? replyBuffer,
        long? timeout);
    FltSendMessageResult FltSendMessage(DriverObject driver, FltPort clientPort, ReadOnlyMemory<byte> senderBuffer, Memory<byte>? replyBuffer, long? timeout);
}
