using KernelBridge.Abi;

namespace KernelBridge.Client.Win32;

/// <summary>
/// advapi32's security functions: BOOL and the thread's last error (the same one
/// <see cref="Kernel32.GetLastError"/> reads), with Windows' error codes.
/// </summary>
public static unsafe partial class Advapi32
{
    /// <summary>SDDL_REVISION_1: the only SDDL revision.</summary>
    public const uint SDDL_REVISION_1 = 1;

    private static bool Fail(Win32Error error)
    {
        Kernel32.SetLastError(error);
        return false;
    }

    private static bool Fail(NtStatus status) => Fail(StatusMapping.RtlNtStatusToDosError(status));
}
