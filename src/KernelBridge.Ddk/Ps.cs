namespace KernelBridge.Ddk;

/// <summary>The process structure routines a driver may call (PsXxx).</summary>
public static class Ps
{
    /// <summary>
    /// PsGetCurrentProcessId: the pid of the process the driver is running on behalf of (the caller,
    /// in a top-level dispatch routine or a connect callback); the kernel's own pid otherwise.
    /// </summary>
    public static int GetCurrentProcessId() => KernelRuntime.Current.CurrentProcessId;

    /// <summary>
    /// PsGetCurrentProcess: the process object the driver is running on behalf of (one per client
    /// connection), or null for the kernel's own work. Compare it with <see cref="Flt.GetRequestorProcess"/>.
    /// </summary>
    public static KernelObject? GetCurrentProcess() => KernelRuntime.Current.CurrentProcess;
}
