using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Drivers.Scanner;

/// <summary>Why the scanner asks: a file opened, data about to be written, a file written to and now closed.</summary>
public enum ScanReason : uint
{
    Open = 1,
    Write = 2,
    CloseAfterWrite = 3,
}

/// <summary>What the filter does with files it would scan while no scanner service is connected (or one does not answer in time).</summary>
public enum ScannerPolicy : uint
{
    /// <summary>Let the operation through, as Windows-driver-samples' scanner does.</summary>
    AllowWhenUnscanned = 0,
    /// <summary>Fail it with STATUS_ACCESS_DENIED (fail closed).</summary>
    DenyWhenUnscanned = 1,
}

/// <summary>
/// SCANNER_NOTIFICATION: the message the filter sends over \ScannerPort; the first
/// <see cref="BytesToScan"/> bytes of the content follow it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ScannerNotification(ScanReason Reason, uint BytesToScan, long FileSize);

/// <summary>SCANNER_REPLY: the service's verdict.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ScannerReply(uint SafeToOpen);

/// <summary>What the filter has done (IOCTL_SCANNER_GET_STATISTICS).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ScannerStatistics(long Scanned, long Infected, long OpensDenied, long WritesDenied, long UnscannedAllowed, long UnscannedDenied,
    long Timeouts, long CloseScans, int Connected, ScannerPolicy Policy);

/// <summary>The scanner minifilter's names, message layout and control codes (shared with its service in samples/Scanner).</summary>
public static class ScannerInterface
{
    public const string ServiceName = "Scanner";
    public const string PortName = @"\ScannerPort";
    public const string ControlDeviceName = @"\Device\Scanner";
    public const string ControlDosName = @"\??\Scanner";
    public const string ControlWin32Name = @"\\.\Scanner";

    /// <summary>The scanner sample's altitude (FSFilter Anti-Virus load order group).</summary>
    public const string Altitude = "265000";

    /// <summary>How much of a file, or of a write, goes to the service (the sample's 1 KiB was a demo; a port message may be 64 KiB).</summary>
    public const int ReadBufferSize = 32 * 1024;

    /// <summary>How long the filter waits for a verdict before applying the policy (100 ns units, relative).</summary>
    public const long ReplyTimeout = -5 * 10_000_000L;

    /// <summary>The extensions scanned unless the service names others in its connection context (the sample's list).</summary>
    public static readonly string[] DefaultExtensions = ["doc", "txt", "bat", "cmd", "inf"];

    public static readonly CtlCode IOCTL_SCANNER_GET_STATISTICS = CtlCode.Make(0x22, 0xC00, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_READ_ACCESS);

    /// <summary>Input: a <see cref="ScannerPolicy"/> (uint).</summary>
    public static readonly CtlCode IOCTL_SCANNER_SET_POLICY = CtlCode.Make(0x22, 0xC01, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS);

    public static int NotificationSize => Marshal.SizeOf<ScannerNotification>();
    public static int ReplySize => Marshal.SizeOf<ScannerReply>();

    /// <summary>The connection context a service sends: the extensions to scan, ';'-separated, in UTF-16.</summary>
    public static byte[] ConnectionContext(IEnumerable<string> extensions) => MemoryMarshal.AsBytes(string.Join(';', extensions).AsSpan()).ToArray();

    /// <summary>Reads what <see cref="ConnectionContext"/> wrote; an empty or unreadable context means the defaults.</summary>
    public static string[] ParseExtensions(ReadOnlySpan<byte> context)
    {
        if (context.Length == 0 || context.Length % 2 != 0) return DefaultExtensions;
        var text = new string(MemoryMarshal.Cast<byte, char>(context));
        var extensions = text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return extensions.Length == 0 ? DefaultExtensions : extensions;
    }
}
