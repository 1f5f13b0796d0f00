using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>Tokens and privileges: OpenProcessToken, GetTokenInformation, AdjustTokenPrivileges, LookupPrivilegeValue/Name.</summary>
public static unsafe partial class Advapi32
{
    public static bool OpenProcessToken(nint processHandle, uint desiredAccess, out nint tokenHandle)
    {
        nint handle;
        var status = Ntdll.NtOpenProcessToken(processHandle, desiredAccess, &handle);
        tokenHandle = handle;
        return status.IsSuccess || Fail(status);
    }

    /// <summary>OpenThreadToken: ERROR_NO_TOKEN, as on Windows for a thread that is not impersonating (none is here).</summary>
    public static bool OpenThreadToken(nint threadHandle, uint desiredAccess, bool openAsSelf, out nint tokenHandle)
    {
        nint handle;
        var status = Ntdll.NtOpenThreadToken(threadHandle, desiredAccess, openAsSelf, &handle);
        tokenHandle = handle;
        return status.IsSuccess || Fail(status);
    }

    /// <summary>GetTokenInformation: ERROR_INSUFFICIENT_BUFFER with the size needed in <paramref name="returnLength"/> when the buffer is short.</summary>
    public static bool GetTokenInformation(nint tokenHandle, TokenInformationClass informationClass, void* tokenInformation, uint length, out uint returnLength)
    {
        uint needed = 0;
        var status = Ntdll.NtQueryInformationToken(tokenHandle, informationClass, tokenInformation, length, &needed);
        returnLength = needed;
        return status.IsSuccess || Fail(status);
    }

    /// <summary>
    /// AdjustTokenPrivileges: TRUE whenever the call went through; the last error is then
    /// ERROR_SUCCESS, or ERROR_NOT_ALL_ASSIGNED when a listed privilege is not held.
    /// </summary>
    public static bool AdjustTokenPrivileges(nint tokenHandle, bool disableAllPrivileges, TOKEN_PRIVILEGES* newState, uint bufferLength,
        TOKEN_PRIVILEGES* previousState, uint* returnLength)
    {
        var status = Ntdll.NtAdjustPrivilegesToken(tokenHandle, disableAllPrivileges, newState, bufferLength, previousState, returnLength);
        if (!status.IsSuccess) return Fail(status);
        Kernel32.SetLastError(status == NtStatus.STATUS_NOT_ALL_ASSIGNED ? Win32Error.ERROR_NOT_ALL_ASSIGNED : Win32Error.ERROR_SUCCESS);
        return true;
    }

    /// <summary>LookupPrivilegeValue on the local system: ERROR_NO_SUCH_PRIVILEGE for a name Windows does not define.</summary>
    public static bool LookupPrivilegeValue(string? systemName, string name, out LUID luid)
    {
        luid = default;
        if (!string.IsNullOrEmpty(systemName)) return Fail(Win32Error.ERROR_INVALID_PARAMETER);
        if (!Privileges.TryParse(name, out var privilege)) return Fail(Win32Error.ERROR_NO_SUCH_PRIVILEGE);
        luid.LowPart = (uint)privilege;
        return true;
    }

    /// <summary>LookupPrivilegeName: the programmatic name ("SeDebugPrivilege"); ERROR_NO_SUCH_PRIVILEGE for an unknown LUID.</summary>
    public static bool LookupPrivilegeName(string? systemName, in LUID luid, out string? name)
    {
        name = null;
        if (!string.IsNullOrEmpty(systemName)) return Fail(Win32Error.ERROR_INVALID_PARAMETER);
        if (luid.HighPart != 0 || !Privileges.IsDefined(luid.LowPart)) return Fail(Win32Error.ERROR_NO_SUCH_PRIVILEGE);
        name = ((Privilege)luid.LowPart).ToString();
        return true;
    }
}
