using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>
/// Advapi32's kernel-object security calls: GetKernelObjectSecurity and SetKernelObjectSecurity over
/// NtQuerySecurityObject / NtSetSecurityObject, with descriptors in the self-relative form. The last
/// error is <see cref="Kernel32.GetLastError"/>'s.
/// </summary>
public static unsafe partial class Advapi32
{
    /// <summary>
    /// GetKernelObjectSecurity: FALSE with ERROR_INSUFFICIENT_BUFFER and the length in
    /// <paramref name="lengthNeeded"/> when <paramref name="securityDescriptor"/> is too small (null asks for the length).
    /// </summary>
    public static bool GetKernelObjectSecurity(nint handle, uint requestedInformation, byte[]? securityDescriptor, out uint lengthNeeded)
    {
        uint needed = 0;
        NtStatus status;
        fixed (byte* buffer = securityDescriptor)
            status = Ntdll.NtQuerySecurityObject(handle, requestedInformation, buffer, (uint)(securityDescriptor?.Length ?? 0), &needed);
        lengthNeeded = needed;
        return Succeeded(status);
    }

    /// <summary>GetKernelObjectSecurity, asking twice as callers do: the descriptor, or null with the last error set.</summary>
    public static byte[]? GetKernelObjectSecurity(nint handle, uint requestedInformation)
    {
        if (GetKernelObjectSecurity(handle, requestedInformation, null, out var needed)) return [];
        if (Kernel32.GetLastError() != (uint)Win32Error.ERROR_INSUFFICIENT_BUFFER) return null;
        var buffer = new byte[needed];
        return GetKernelObjectSecurity(handle, requestedInformation, buffer, out needed) ? buffer[..(int)needed] : null;
    }

    /// <summary>SetKernelObjectSecurity: the parts <paramref name="securityInformation"/> names, from a self-relative descriptor.</summary>
    public static bool SetKernelObjectSecurity(nint handle, uint securityInformation, ReadOnlySpan<byte> securityDescriptor) =>
        Succeeded(Ntdll.NtSetSecurityObject(handle, securityInformation, securityDescriptor));

    private static bool Succeeded(NtStatus status)
    {
        if (status.IsSuccess) return true;
        Kernel32.SetLastError((uint)StatusMapping.RtlNtStatusToDosError(status));
        return false;
    }
}
