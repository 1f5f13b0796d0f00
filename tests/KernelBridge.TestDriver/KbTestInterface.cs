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
    /// <summary>Block the calling kernel thread for DelayMs inside the dispatch routine, then complete (a driver that should not, but does).</summary>
    BlockInDispatch = 4,
}

/// <summary>The input of the RETURN control codes (and of SET_RW): the outcome the test wants.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct ReturnRequest(int DispatchStatus, int IosbStatus, long Information, PendMode Pend, int DelayMs, uint FillByte, int FillLength);

/// <summary>
/// The input of SET_NAME, followed by a name (UTF-16): how this file object's FileNameInformation
/// queries answer. An error Status completes with it and nothing written; otherwise the name is
/// written (cut, with STATUS_BUFFER_OVERFLOW, if it does not fit) and Status returned. Park waits
/// for IOCTL_KBTEST_RELEASE, whose status and Information the IRP then completes with.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct NameAnswer(int Status, PendMode Pend, int DelayMs, int Reserved);

/// <summary>
/// What the driver saw for one tag (the file name under the device). The Last* fields describe the
/// last IRP_MJ_QUERY_VOLUME_INFORMATION or IRP_MJ_SET_VOLUME_INFORMATION: Parameters.QueryVolume or
/// Parameters.SetVolume, and the IRP's flags.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbTestCounters(int Creates, int Cleanups, int Closes, int Reads, int Writes, int DeviceControls, int QueryInformation,
    int Cancels, int OpenFiles, int Parked, int QueryVolume, int SetVolume, int LastFsInformationClass, int LastFsLength, uint LastIrpFlags);

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
    /// <summary>Input: <see cref="NameAnswer"/> and a name; this file object's FileNameInformation queries answer that way from now on.</summary>
    public static readonly CtlCode IOCTL_KBTEST_SET_NAME = Code(0x917, TransferMethod.METHOD_BUFFERED);
    /// <summary>Input: <see cref="ReturnRequest"/>; the tag's volume queries and sets answer that way from now on (fill, Information, statuses, pending).</summary>
    public static readonly CtlCode IOCTL_KBTEST_SET_VOLUME = Code(0x918, TransferMethod.METHOD_BUFFERED);
    /// <summary>Output: the system buffer of the tag's last IRP_MJ_SET_VOLUME_INFORMATION, as the driver saw it.</summary>
    public static readonly CtlCode IOCTL_KBTEST_LAST_SET_VOLUME = Code(0x919, TransferMethod.METHOD_BUFFERED);
    /// <summary>The dispatch routine throws (a driver bug): the driver is marked faulted.</summary>
    public static readonly CtlCode IOCTL_KBTEST_CRASH = Code(0x920, TransferMethod.METHOD_BUFFERED);

    /// <summary>In: long size. Allocates pages (MmAllocatePagesForMdl), fills byte i with (i * 7 + 1), maps them into the caller; out: ulong address.</summary>
    public static readonly CtlCode IOCTL_KBTEST_MAP_PAGES = Code(0x930, TransferMethod.METHOD_BUFFERED);
    /// <summary>Out: long, the sum of the bytes of this file's pages as the driver reads them.</summary>
    public static readonly CtlCode IOCTL_KBTEST_SUM_PAGES = Code(0x931, TransferMethod.METHOD_BUFFERED);
    /// <summary>In: <see cref="SectionFill"/>. References the caller's section handle, maps it in system space and fills a range.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FILL_SECTION = Code(0x932, TransferMethod.METHOD_BUFFERED);
    /// <summary>In: UTF-16 name under \BaseNamedObjects. ZwCreateSection (kernel handle, open-if, 64 KiB), ZwMapViewOfSection into the caller; out: ulong address.</summary>
    public static readonly CtlCode IOCTL_KBTEST_SHARED_SECTION = Code(0x933, TransferMethod.METHOD_BUFFERED);

    /// <summary>
    /// METHOD_NEITHER, in: int. Reads the caller's input, then reads it again once it changes (or after
    /// 2 s): out: both values. Unsafe on purpose: a driver must capture METHOD_NEITHER input once.
    /// </summary>
    public static readonly CtlCode IOCTL_KBTEST_FETCH_TWICE = Code(0x934, TransferMethod.METHOD_NEITHER);
    /// <summary>As <see cref="IOCTL_KBTEST_FETCH_TWICE"/>, done right: the input is captured once, and both values are the captured one.</summary>
    public static readonly CtlCode IOCTL_KBTEST_CAPTURE_ONCE = Code(0x935, TransferMethod.METHOD_NEITHER);

    /// <summary>Fill <see cref="Length"/> bytes from <see cref="Offset"/> of the section behind <see cref="Section"/> (a handle of the caller's) with <see cref="Value"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public record struct SectionFill(long Section, long Offset, int Length, int Value);

    /// <summary>What the driver answers to FileFsVolumeInformation and FileFsAttributeInformation unless told otherwise.</summary>
    public const string VolumeLabel = "KbTest";
    public const uint VolumeSerialNumber = 0xDEADBEEF;
    public const string FileSystemName = "KbTestFs";
    /// <summary>FILE_CASE_SENSITIVE_SEARCH | FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK.</summary>
    public const uint FileSystemAttributes = 0x7;
    public const int MaximumComponentNameLength = 255;

    public static string Device(string service, string variant = "") => $@"\Device\{service}{variant}";
    public static string Win32(string service, string variant = "") => $@"\\.\{service}{variant}";

    /// <summary>The device variants: buffered I/O, direct I/O, neither, an exclusive device, and a buffered one for a filter to sit on.</summary>
    public static readonly string[] Variants = ["", "Direct", "Neither", "Exclusive", "Stack"];
}
