using KernelBridge.Kernel.Flt.Ports;

namespace KernelBridge.Kernel;

/// <summary>What the Ddk's Flt class reaches: the Filter Manager's communication ports.</summary>
internal sealed partial class DdkExports
{
    public NtStatus FltCreateCommunicationPort(DriverObject driver, out FltPort? serverPort, string portName, string? securityDescriptor,
        object? serverPortCookie, FltConnectNotify connectNotify, FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify,
        int maxConnections) =>
        Filters.Ports.CreatePort(driver, out serverPort, portName, securityDescriptor, serverPortCookie, connectNotify, disconnectNotify,
            messageNotify, maxConnections);

    public void FltCloseCommunicationPort(FltPort serverPort) => Filters.Ports.ClosePort(serverPort);

    public void FltCloseClientPort(DriverObject driver, FltPort clientPort) => FltPortManager.CloseClientPort(clientPort);

    public ValueTask<FltSendMessageResult> FltSendMessageAsync(DriverObject driver, FltPort clientPort, ReadOnlyMemory<byte> senderBuffer,
        Memory<byte>? replyBuffer, long? timeout) =>
        FltPortManager.SendAsync(clientPort, senderBuffer, replyBuffer, timeout);

    public FltSendMessageResult FltSendMessage(DriverObject driver, FltPort clientPort, ReadOnlyMemory<byte> senderBuffer, Memory<byte>? replyBuffer,
        long? timeout) =>
        FltPortManager.Send(clientPort, senderBuffer, replyBuffer, timeout);
}
