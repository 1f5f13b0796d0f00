using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

public static unsafe partial class Ntdll
{
    /// <summary>
    /// The connect behind FilterConnectCommunicationPort: a file handle on FltMgrMsg, connected to the
    /// server port <paramref name="portName"/> if its connect callback says yes.
    /// </summary>
    internal static NtStatus NtFltConnectCommunicationPort(GateClient? gate, nint* portHandle, string portName, uint options, ReadOnlySpan<byte> context,
        uint desiredAccess, uint handleAttributes)
    {
        if (!BeginOpen(ref gate, portHandle, out var status)) return status;
        status = Syscalls.NtFltConnectCommunicationPort(gate, new NtFltConnectCommunicationPortRequest(options, desiredAccess, handleAttributes, 0, 0),
            new(portName, context), out var reply);
        return HandleOut(portHandle, status, reply);
    }
}
