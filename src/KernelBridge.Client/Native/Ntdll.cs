using System.Diagnostics.CodeAnalysis;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>
/// The native API: Nt* calls with Windows' parameters, returning NTSTATUS. Memory the caller
/// passes (IOSB, output buffers) is written only where Windows would write it.
/// A raw handle does not say whose it is, so the public calls use the thread's connection
/// (<see cref="GateClient.Current"/>). The calls the idiomatic layer makes also exist with the
/// connection as their first parameter (internal): a <see cref="KernelHandle"/> passes its own.
/// </summary>
public static unsafe partial class Ntdll
{
    /// <summary>NT_SUCCESS.</summary>
    public static bool NT_SUCCESS(NtStatus status) => status.IsSuccess;
    public static bool NT_INFORMATION(NtStatus status) => status.IsInformational;
    public static bool NT_WARNING(NtStatus status) => status.IsWarning;
    public static bool NT_ERROR(NtStatus status) => status.IsError;

    /// <summary>RtlNtStatusToDosError.</summary>
    public static Win32Error RtlNtStatusToDosError(NtStatus status) => StatusMapping.RtlNtStatusToDosError(status);

    /// <summary>
    /// The connection for this call: the one the caller passed (a handle's own), else the thread's
    /// (<see cref="GateClient.Current"/>), or a status saying why there is none.
    /// </summary>
    private static bool TryGate([NotNullWhen(true)] ref GateClient? gate, out NtStatus status)
    {
        if (gate is null)
        {
            try
            {
                gate = GateClient.Current;
            }
            catch (ProtocolMismatchException e)
            {
                return NoConnection(e, NtStatus.STATUS_REVISION_MISMATCH, out status);
            }
            catch (UnauthorizedAccessException e)
            {
                return NoConnection(e, NtStatus.STATUS_ACCESS_DENIED, out status);
            }
            catch (KernelUnavailableException e)
            {
                return NoConnection(e, NtStatus.STATUS_PORT_CONNECTION_REFUSED, out status);
            }
        }
        status = gate.IsConnected ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_PORT_DISCONNECTED;
        return gate.IsConnected;
    }

    /// <summary>The thread's connection (<see cref="GateClient.Current"/>), for calls made on raw handles only.</summary>
    private static bool TryCurrentGate([NotNullWhen(true)] out GateClient? gate, out NtStatus status)
    {
        gate = null;
        return TryGate(ref gate, out status);
    }

    private static bool NoConnection(Exception reason, NtStatus status, out NtStatus result)
    {
        LastConnectionError = reason.Message;
        result = status;
        return false;
    }

    /// <summary>Why the last attempt to reach the kernel failed (when a call returned STATUS_PORT_CONNECTION_REFUSED or STATUS_REVISION_MISMATCH).</summary>
    public static string? LastConnectionError { get; private set; }

    private static void WriteIosb(IO_STATUS_BLOCK* iosb, in Abi.Protocol.IoStatusWire status)
    {
        // Information first: GetOverlappedResult polls Status.
        iosb->Information = (nuint)status.Information;
        Volatile.Write(ref iosb->Status, status.Status);
    }
}
