using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.TestDriver;

/// <summary>How the test driver should answer a request.</summary>
public enum PendMode
{
    /// <summary>Complete inside the dispatch routine and return DispatchStatus.</summary>
    None = 0,
    /// <summary>IoMarkIrpPending, complete inside dispatch, return DispatchStatus (Wine's return_status shape).</summary>
    MarkPendingCompleteInline = 1,
    /// <summary>Return STATUS_PENDING; a timer completes the IRP after DelayMs.</summary>
    CompleteLater = 2,
    /// <summary>Return STATUS_PENDING; the IRP waits (cancellable) until IOCTL_KBTEST_RELEASE.</summary>
    Park = 3,
}

/// <summary>The input of the RETURN control codes (and of SET_RW): the outcome the test wants.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ReturnRequest(int DispatchStatus, int IosbStatus, long Information, PendMode Pend, int DelayMs, uint FillByte, int FillLength);

/// <summary>What the driver saw for one tag (the file name under the device).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbTestCounters(int Creates, int Cleanups, int Closes, int Reads, int Writes, int DeviceControls, int QueryInformation,
    int Cancels, int OpenFiles, int Parked);

/// <summary>The test driver's names and control codes.</summary>
public static class KbTestInterface
{
    public const string ServiceName = "KbTest";

    private static CtlCode Code(uint function, TransferMethod method, RequiredAccess access = RequiredAccess.FILE_ANY_ACCESS) =>
        CtlCode.Make(0x22, function, method, access);

    public static readonly CtlCode IOCTL_KBTEST_RETURN_BUFFERED = Code(0x900, TransferMethod.METHOD_BUFFERED);
    public static readonly CtlCode IOCTL_KBTEST_RETURN_IN_DIRECT = Code(0x901, TransferMethod.METHOD_IN_DIRECT);
    public static readonly CtlCode IOCTL_KBTEST_RETURN_OUT_DIRECT = Code(0x902, TransferMethod.METHOD_OUT_DIRECT);
    public static readonly CtlCode IOCTL_KBTEST_RETURN_NEITHER = Code(0x903, TransferMethod.METHOD_NEITHER);

    /// <summary>Input: a tag (UTF-16); output: <see cref="KbTestCounters"/>.</summary>
    public static readonly CtlCode IOCTL_KBTEST_COUNTERS = Code(0x910, TransferMethod.METHOD_BUFFERED);
    /// <summary>Output: a long identifying this file object's FsContext.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FSCONTEXT = Code(0x911, TransferMethod.METHOD_BUFFERED);
    /// <summary>Input: {int Status; long Information}; completes this tag's parked IRPs. Output: int count.</summary>
    public static readonly CtlCode IOCTL_KBTEST_RELEASE = Code(0x912, TransferMethod.METHOD_BUFFERED);
    public static readonly CtlCode IOCTL_KBTEST_NEEDS_READ = Code(0x913, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_READ_ACCESS);
    public static readonly CtlCode IOCTL_KBTEST_NEEDS_WRITE = Code(0x914, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS);
    public static readonly CtlCode IOCTL_KBTEST_NEEDS_READ_WRITE = Code(0x915, TransferMethod.METHOD_BUFFERED,
        RequiredAccess.FILE_READ_ACCESS | RequiredAccess.FILE_WRITE_ACCESS);
    /// <summary>Input: <see cref="ReturnRequest"/>; the tag's reads and writes answer that way from now on.</summary>
    public static readonly CtlCode IOCTL_KBTEST_SET_RW = Code(0x916, TransferMethod.METHOD_BUFFERED);
    /// <summary>The dispatch routine throws (a driver bug): the driver is marked faulted.</summary>
    public static readonly CtlCode IOCTL_KBTEST_CRASH = Code(0x920, TransferMethod.METHOD_BUFFERED);

    public static string Device(string service, string variant = "") => $@"\Device\{service}{variant}";
    public static string Win32(string service, string variant = "") => $@"\\.\{service}{variant}";

    /// <summary>The device variants: buffered I/O, direct I/O, neither, an exclusive device, and a buffered one for a filter to sit on.</summary>
    public static readonly string[] Variants = ["", "Direct", "Neither", "Exclusive", "Stack"];
}
