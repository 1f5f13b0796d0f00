using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.TestDriver;

/// <summary>How the test driver sends in IOCTL_KBTEST_PORT_SEND.</summary>
public enum PortSendMode
{
    /// <summary>Flt.SendMessageAsync, one after another; the IOCTL pends until all have ended.</summary>
    Async = 0,
    /// <summary>Flt.SendMessage (blocking) on a pool thread.</summary>
    BlockingOnWorker = 1,
    /// <summary>Flt.SendMessage (blocking) inside the dispatch routine, on behalf of the calling process.</summary>
    BlockingInDispatch = 2,
}

/// <summary>
/// IOCTL_KBTEST_PORT_CREATE's input, then the port name (UTF-16). RefuseStatus, if not 0, is what the
/// connect callback answers. The message callback writes each input byte plus one, as far as the output
/// goes (STATUS_BUFFER_OVERFLOW if cut), unless the input is empty: then it answers MessageStatus.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortCreateRequest(int MaxConnections, int RefuseStatus, int MessageStatus, int WithMessageCallback);

/// <summary>
/// IOCTL_KBTEST_PORT_SEND's input, then the port name. Sends Count messages to the Client-th live
/// connection (in connect order): MessageLength bytes, byte j of message i being (i + j) mod 256; with a
/// reply buffer of ReplyLength bytes unless it is negative; Timeout in 100 ns units unless HasTimeout is 0.
/// Output: one <see cref="PortSendOutcome"/> per message (as many as fit).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortSendRequest(int Count, int MessageLength, int ReplyLength, int HasTimeout, long Timeout, PortSendMode Mode, int Client);

/// <summary>One send's end: its status, the reply length, and the reply's first four bytes (0 if fewer).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortSendOutcome(int Status, int ReplyLength, int ReplyHead);

/// <summary>
/// IOCTL_KBTEST_PORT_STATE's output for the port named in the input, followed by the last connect's context:
/// connects accepted and refused, disconnect callbacks, live connections (client ports not yet closed),
/// user messages seen, the context's length, and the sends the driver has started (IOCTL_KBTEST_PORT_SEND).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortStateInfo(int Connects, int Refused, int Disconnects, int LiveClients, int UserMessages, int ContextLength, int SendsStarted);

/// <summary>The test driver's communication port controls (its \Device\KbTest device, METHOD_BUFFERED).</summary>
public static class KbTestPortsInterface
{
    private static CtlCode Code(uint function) => CtlCode.Make(0x22, function, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    public static readonly CtlCode IOCTL_KBTEST_PORT_CREATE = Code(0x940);
    public static readonly CtlCode IOCTL_KBTEST_PORT_SEND = Code(0x941);
    /// <summary>Input: int client index, then the port name. Flt.CloseClientPort on that live connection.</summary>
    public static readonly CtlCode IOCTL_KBTEST_PORT_CLOSE_CLIENT = Code(0x942);
    /// <summary>Input: the port name. Flt.CloseCommunicationPort.</summary>
    public static readonly CtlCode IOCTL_KBTEST_PORT_CLOSE_SERVER = Code(0x943);
    public static readonly CtlCode IOCTL_KBTEST_PORT_STATE = Code(0x944);
}
