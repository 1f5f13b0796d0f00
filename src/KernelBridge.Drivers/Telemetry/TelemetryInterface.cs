using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;

namespace KernelBridge.Drivers.Telemetry;

/// <summary>What IOCTL_TELEMETRY_START asks for: records of RecordLength bytes (at least a <see cref="TelemetryRecord"/>), Count of them (0: until stopped; -1: echo what the user sends up), on a down ring of RingCapacity bytes (a power of two; 0: 1 MiB) that blocks or drops when full.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct TelemetryStart(int RecordLength, int RingCapacity, long Count, ChannelOverflowPolicy Policy, int Reserved);

/// <summary>Where the driver mapped the channel in the caller, and its size.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct TelemetryChannel(ulong Address, long Length);

/// <summary>What IOCTL_TELEMETRY_STOP reports: records sent and dropped (Drop policy) down the channel.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct TelemetryStats(long Sent, long Dropped);

/// <summary>The head of every telemetry record: its number (from 0) and about when it was made (Stopwatch ticks, read every 64 records); the rest of the record is (byte)Sequence.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct TelemetryRecord(long Sequence, long Timestamp);

/// <summary>
/// The telemetry sample's interface: a driver that streams records to a user program over a shared
/// channel, and shares one named section (<see cref="SharedSectionName"/>) with every process that
/// asks, writing a heartbeat into it.
/// </summary>
public static class TelemetryInterface
{
    public const string ServiceName = "Telemetry";
    public const string DeviceName = @"\Device\Telemetry";
    public const string DosName = @"\??\Telemetry";
    public const string Win32Name = @"\\.\Telemetry";

    /// <summary>The section the driver shares, under \BaseNamedObjects (OpenFileMapping("TelemetryShared") finds it while anyone maps it).</summary>
    public const string SharedSectionName = "TelemetryShared";
    public const int SharedSectionLength = 64 * 1024;

    /// <summary>Where, in the shared section, the driver writes its heartbeat (a long it increments every 10 ms while anyone maps it).</summary>
    public const int HeartbeatOffset = 0;

    public const int DefaultRingCapacity = 1 << 20;

    /// <summary>In: <see cref="TelemetryStart"/>; out: <see cref="TelemetryChannel"/>. One stream per open file.</summary>
    public static readonly CtlCode IOCTL_TELEMETRY_START = CtlCode.Make(0x22, 0x900, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Out: <see cref="TelemetryStats"/>. Stops the stream (the channel stays mapped until the file is closed).</summary>
    public static readonly CtlCode IOCTL_TELEMETRY_STOP = CtlCode.Make(0x22, 0x901, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Out: ulong, the address of the shared section in the caller.</summary>
    public static readonly CtlCode IOCTL_TELEMETRY_MAP_SHARED = CtlCode.Make(0x22, 0x902, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
}
