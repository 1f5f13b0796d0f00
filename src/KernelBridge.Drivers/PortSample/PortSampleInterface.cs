using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Drivers.PortSample;

/// <summary>
/// IOCTL_PORTSAMPLE_RUN's input: send Count messages of MessageSize bytes over the connected client's
/// port, with a reply buffer of ReplySize bytes (none if negative), InFlight of them at a time.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortSampleRun(int Count, int MessageSize, int ReplySize, int InFlight);

/// <summary>IOCTL_PORTSAMPLE_RUN's output: the time from the first send to the end of the last, and how the sends ended.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct PortSampleResult(long ElapsedNanoseconds, int Completed, int Failed, int LastFailure);

/// <summary>The port sample's names and control code (its public.h).</summary>
public static class PortSampleInterface
{
    public const string ServiceName = "PortSample";
    public const string PortName = @"\PortSample";
    public const string DeviceName = @"\Device\PortSample";
    public const string DosName = @"\??\PortSample";
    public const string Win32Name = @"\\.\PortSample";

    /// <summary>Input <see cref="PortSampleRun"/>, output <see cref="PortSampleResult"/>; pends while the sends run.</summary>
    public static readonly CtlCode IOCTL_PORTSAMPLE_RUN = CtlCode.Make(0x22, 0x800, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
}
