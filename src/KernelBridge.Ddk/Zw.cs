using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The Zw* system services a driver calls (previous mode KernelMode: no access checks on its own
/// handles). A handle made with OBJ_KERNEL_HANDLE lives in the System process's table and only
/// kernel code can use it; without it, a handle made in a dispatch routine belongs to the
/// requesting process, as on Windows.
/// </summary>
public static class Zw
{
    /// <summary>NtCurrentProcess(): in a dispatch routine, the process that sent the request.</summary>
    public const long CurrentProcess = -1;

    /// <summary>ZwCreateSection over the paging file (<paramref name="fileHandle"/> 0); <paramref name="objectName"/> may be null.</summary>
    public static NtStatus CreateSection(out long sectionHandle, uint desiredAccess, string? objectName, uint attributes, long maximumSize,
        uint sectionPageProtection, uint allocationAttributes, long fileHandle = 0) =>
        KernelRuntime.Current.CreateSection(out sectionHandle, desiredAccess, objectName, attributes, maximumSize, sectionPageProtection,
            allocationAttributes, fileHandle);

    public static NtStatus OpenSection(out long sectionHandle, uint desiredAccess, string objectName, uint attributes) =>
        KernelRuntime.Current.OpenSection(out sectionHandle, desiredAccess, objectName, attributes);

    /// <summary>
    /// ZwMapViewOfSection: into a user process (<see cref="CurrentProcess"/> in a dispatch routine:
    /// the caller, whose client library maps it before the request completes), or, when the process
    /// is the System process, into kernel space. <paramref name="baseAddress"/> 0 lets the kernel choose.
    /// </summary>
    public static NtStatus MapViewOfSection(long sectionHandle, long processHandle, ref ulong baseAddress, ulong zeroBits, ulong commitSize,
        ref long sectionOffset, ref ulong viewSize, SectionInherit inheritDisposition, uint allocationType, uint win32Protect) =>
        KernelRuntime.Current.MapViewOfSection(sectionHandle, processHandle, ref baseAddress, ref sectionOffset, ref viewSize, win32Protect);

    public static NtStatus UnmapViewOfSection(long processHandle, ulong baseAddress) =>
        KernelRuntime.Current.UnmapViewOfSection(processHandle, baseAddress);

    /// <summary>ZwClose.</summary>
    public static NtStatus Close(long handle) => KernelRuntime.Current.CloseHandle(handle);
}
