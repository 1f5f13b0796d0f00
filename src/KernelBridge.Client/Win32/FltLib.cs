using KernelBridge.Abi;
using KernelBridge.Client.Filter;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>
/// fltlib.dll's communication port calls, with Windows' parameters and HRESULTs. A failure is
/// HRESULT_FROM_WIN32 of the Win32 error of the kernel's status (so a missing port is 0x80070002,
/// a full one 0x800704D6, a disconnected one 0x80070006, a reply nobody waits for 0x801F0020), and
/// an overlapped FilterGetMessage that pends is HRESULT_FROM_WIN32(ERROR_IO_PENDING), 0x800703E5.
/// The port handle is a file handle: CloseHandle disconnects, CreateIoCompletionPort and CancelIo take it.
/// </summary>
public static unsafe class FltLib
{
    public const int S_OK = 0;
    public static readonly int E_INVALIDARG = unchecked((int)0x80070057);

    /// <summary>HRESULT_FROM_WIN32: 0 stays 0, a value already shaped as an HRESULT stays, others get facility 7 and the error bit.</summary>
    public static int HRESULT_FROM_WIN32(uint error) => (int)error <= 0 ? (int)error : unchecked((int)((error & 0xFFFF) | 0x80070000));

    public static int HRESULT_FROM_WIN32(Win32Error error) => HRESULT_FROM_WIN32((uint)error);

    /// <summary>The HRESULT FltLib reports for a kernel status.</summary>
    public static int HResultOf(NtStatus status) => status.IsSuccess ? S_OK : HRESULT_FROM_WIN32(StatusMapping.RtlNtStatusToDosError(status));

    /// <summary>
    /// FilterConnectCommunicationPort: connects to the server port <paramref name="portName"/> (\ScannerPort),
    /// handing the first <paramref name="sizeOfContext"/> bytes of <paramref name="context"/> to its
    /// connect callback. <paramref name="options"/>: 0 or FLT_PORT_FLAG_SYNC_HANDLE. The connect
    /// callback's refusal comes back as its HRESULT; MaxConnections reached, HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT).
    /// </summary>
    public static int FilterConnectCommunicationPort(string portName, uint options, ReadOnlySpan<byte> context, ushort sizeOfContext,
        nint securityAttributes, out nint port)
    {
        port = 0;
        if (portName is null || sizeOfContext > context.Length) return E_INVALIDARG;
        _ = securityAttributes;
        nint handle;
        var status = Ntdll.NtFltConnectCommunicationPort(null, &handle, portName, options, context[..sizeOfContext],
            AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.SYNCHRONIZE, 0);
        if (!status.IsSuccess) return HResultOf(status);
        port = handle;
        return S_OK;
    }

    /// <summary>FilterSendMessage: the input to the port's message callback; its output and length back.</summary>
    public static int FilterSendMessage(nint port, void* inBuffer, uint inBufferSize, void* outBuffer, uint outBufferSize, uint* bytesReturned)
    {
        if (bytesReturned is null) return E_INVALIDARG;
        *bytesReturned = 0;
        IO_STATUS_BLOCK iosb = default;
        var status = SynchronousControl.Call(port, FltControlCodes.FLT_CTL_SEND_MESSAGE.Value, inBuffer, inBufferSize, outBuffer, outBufferSize, &iosb);
        if (!status.IsError) *bytesReturned = (uint)iosb.Information;
        return HResultOf(status);
    }

    public static int FilterSendMessage(nint port, ReadOnlySpan<byte> input, Span<byte> output, out uint bytesReturned)
    {
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        fixed (uint* returned = &bytesReturned)
            return FilterSendMessage(port, input.IsEmpty ? null : inPointer, (uint)input.Length, output.IsEmpty ? null : outPointer, (uint)output.Length,
                returned);
    }

    /// <summary>
    /// FilterGetMessage: the next message the kernel sends, as FILTER_MESSAGE_HEADER then the message.
    /// Without an OVERLAPPED it waits; with one it returns HRESULT_FROM_WIN32(ERROR_IO_PENDING) and
    /// completes through the OVERLAPPED's event or the completion port the handle is associated with.
    /// A message longer than the buffer arrives cut, with HRESULT_FROM_WIN32(ERROR_MORE_DATA).
    /// </summary>
    public static int FilterGetMessage(nint port, FILTER_MESSAGE_HEADER* messageBuffer, uint messageBufferSize, OVERLAPPED* overlapped)
    {
        if (messageBuffer is null || messageBufferSize < FilterPortLimits.HeaderSize) return E_INVALIDARG;
        if (overlapped is not null)
        {
            uint returned;
            return Kernel32.DeviceIoControl(port, FltControlCodes.FLT_CTL_GET_MESSAGE.Value, null, 0, messageBuffer, messageBufferSize, &returned, overlapped)
                ? S_OK
                : HRESULT_FROM_WIN32(Kernel32.GetLastError());
        }
        IO_STATUS_BLOCK iosb = default;
        var status = SynchronousControl.Call(port, FltControlCodes.FLT_CTL_GET_MESSAGE.Value, null, 0, messageBuffer, messageBufferSize, &iosb);
        return HResultOf(status);
    }

    public static int FilterGetMessage(nint port, Span<byte> messageBuffer)
    {
        fixed (byte* pointer = messageBuffer)
            return FilterGetMessage(port, (FILTER_MESSAGE_HEADER*)pointer, (uint)messageBuffer.Length, null);
    }

    /// <summary>
    /// FilterReplyMessage: FILTER_REPLY_HEADER (the MessageId of the message answered) and the reply.
    /// A message that nobody waits for (unknown id, answered already, or its sender timed out) gives
    /// ERROR_FLT_NO_WAITER_FOR_REPLY (0x801F0020).
    /// </summary>
    public static int FilterReplyMessage(nint port, FILTER_REPLY_HEADER* replyBuffer, uint replyBufferSize)
    {
        if (replyBuffer is null || replyBufferSize < FilterPortLimits.HeaderSize) return E_INVALIDARG;
        IO_STATUS_BLOCK iosb = default;
        var status = SynchronousControl.Call(port, FltControlCodes.FLT_CTL_REPLY_MESSAGE.Value, replyBuffer, replyBufferSize, null, 0, &iosb);
        return HResultOf(status);
    }

    public static int FilterReplyMessage(nint port, ReadOnlySpan<byte> replyBuffer)
    {
        fixed (byte* pointer = replyBuffer)
            return FilterReplyMessage(port, (FILTER_REPLY_HEADER*)pointer, (uint)replyBuffer.Length);
    }
}
