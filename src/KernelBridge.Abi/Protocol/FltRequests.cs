using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// Filter Manager services. Only the connect is a system call: once connected, the port handle is a
// file handle on \FileSystem\Filters\FltMgrMsg, and FilterGetMessage, FilterSendMessage and
// FilterReplyMessage are device controls on it (FltControlCodes), as FltLib does them on Windows.

/// <summary>
/// FilterConnectCommunicationPort: opens a connection to the server port PortName, handing Context
/// to the port's connect callback. The handle is a file handle (overlapped-capable).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(80)]
public partial record struct NtFltConnectCommunicationPortRequest(uint Options, uint DesiredAccess, uint HandleAttributes,
    [Data("PortName", Kind = DataKind.Unicode)] uint PortNameBytes, [Data("Context", MaxCount = 65535)] uint ContextBytes) : IRequest<HandleReply>;
