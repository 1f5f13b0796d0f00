using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// KernelBridge's own management services: what `kbridge kernel status` and `driver list` show.

[StructLayout(LayoutKind.Sequential)]
public record struct KbQueryKernelStateRequest(uint Reserved) : IRequest<KbKernelStateReply>
{
    public static Syscall Number => Syscall.KbQueryKernelState;
}

[Flags]
public enum KernelStateFlags : uint
{
    None = 0,
    Persistent = 1,
}

/// <summary>Followed by TypeCount records, each a <see cref="KbObjectTypeCount"/> then its name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbKernelStateReply(
    long UptimeMilliseconds, long AllocatedBytes, int KernelProcessId, uint ProtocolVersion, uint Clients, uint Objects,
    uint Handles, uint Drivers, uint Devices, uint PendingIrps, KernelStateFlags Flags, uint TypeCount);

[StructLayout(LayoutKind.Sequential)]
public record struct KbObjectTypeCount(uint Objects, uint Handles, uint NameBytes);

[StructLayout(LayoutKind.Sequential)]
public record struct KbQueryDriversRequest(uint Reserved) : IRequest<KbDriversReply>
{
    public static Syscall Number => Syscall.KbQueryDrivers;
}

/// <summary>Followed by Count records, each a <see cref="KbDriverRecord"/> then its name and image path (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbDriversReply(uint Count);

[Flags]
public enum DriverRecordFlags : uint
{
    None = 0,
    BuiltIn = 1,
    Faulted = 2,
    Unloadable = 4,
}

[StructLayout(LayoutKind.Sequential)]
public record struct KbDriverRecord(DriverRecordFlags Flags, uint DeviceCount, uint NameBytes, uint ImagePathBytes);

[StructLayout(LayoutKind.Sequential)]
public record struct KbShutdownKernelRequest(uint Reserved) : IRequest<EmptyReply>
{
    public static Syscall Number => Syscall.KbShutdownKernel;
}
