using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// KernelBridge's own management services: what `kbridge kernel status` and `driver list` show.

[StructLayout(LayoutKind.Sequential)]
[Syscall(200)]
public partial record struct KbQueryKernelStateRequest(uint Reserved) : IRequest<KbKernelStateReply>;

[Flags]
public enum KernelStateFlags : uint
{
    None = 0,
    Persistent = 1,
}

/// <summary>Followed by TypeCount records, each a <see cref="KbObjectTypeCount"/> then its name (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbKernelStateReply(
    long UptimeMilliseconds, long AllocatedBytes, int KernelProcessId, uint ProtocolVersion, uint Clients, uint Objects,
    uint Handles, uint Drivers, uint Devices, uint PendingIrps, KernelStateFlags Flags, uint TypeCount, [Data("Types")] uint TypesBytes, uint Views,
    long SectionBytes, long ViewBytes);

[StructLayout(LayoutKind.Sequential)]
public partial record struct KbObjectTypeCount(uint Objects, uint Handles, uint NameBytes);

[StructLayout(LayoutKind.Sequential)]
[Syscall(201)]
public partial record struct KbQueryDriversRequest(uint Reserved) : IRequest<KbDriversReply>;

/// <summary>Followed by Count records, each a <see cref="KbDriverRecord"/> then its name and image path (UTF-16).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbDriversReply(uint Count, [Data("Records")] uint RecordsBytes);

[Flags]
public enum DriverRecordFlags : uint
{
    None = 0,
    BuiltIn = 1,
    Faulted = 2,
    Unloadable = 4,
}

[StructLayout(LayoutKind.Sequential)]
public partial record struct KbDriverRecord(DriverRecordFlags Flags, uint DeviceCount, uint NameBytes, uint ImagePathBytes);

[StructLayout(LayoutKind.Sequential)]
[Syscall(202)]
public partial record struct KbShutdownKernelRequest(uint Reserved) : IRequest<EmptyReply>;

[Flags]
public enum BugCheckQueryFlags : uint
{
    None = 0,
    /// <summary>Forget the records (and delete their files) after returning them; needs SeLoadDriverPrivilege.</summary>
    Clear = 1,
}

/// <summary>The kernel's bug-check records (`kbridge bugcheck`).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(210)]
public partial record struct KbQueryBugChecksRequest(BugCheckQueryFlags Flags) : IRequest<KbBugChecksReply>;

/// <summary>Followed by the newest records (at most the last 256), a UTF-8 JSON array of <see cref="Diagnostics.BugCheckRecord"/>; Total counts them all.</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbBugChecksReply(uint Count, uint Total, [Data("Records")] uint RecordsBytes);
