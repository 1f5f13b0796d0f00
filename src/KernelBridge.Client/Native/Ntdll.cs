using KernelBridge.Abi;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>
/// The native API: Nt* calls with Windows' parameters, returning NTSTATUS. Memory the caller
/// passes (IOSB, output buffers) is written only where Windows would write it.
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

    /// <summary>The connection for this call, or a status saying why there is none.</summary>
    private static bool TryGate(out GateClient gate, out NtStatus status)
    {
        try
        {
            gate = GateClient.Current;
            status = gate.IsConnected ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_PORT_DISCONNECTED;
            return gate.IsConnected;
        }
        catch (ProtocolMismatchException e)
        {
            LastConnectionError = e.Message;
            gate = null!;
            status = NtStatus.STATUS_REVISION_MISMATCH;
            return false;
        }
        catch (UnauthorizedAccessException e)
        {
            LastConnectionError = e.Message;
            gate = null!;
            status = NtStatus.STATUS_ACCESS_DENIED;
            return false;
        }
        catch (KernelUnavailableException e)
        {
            LastConnectionError = e.Message;
            gate = null!;
            status = NtStatus.STATUS_PORT_CONNECTION_REFUSED;
            return false;
        }
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
