using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.TestMinifilter;

/// <summary>What the tests ask a filter to do with operations on files whose name contains <c>Fragment</c>.</summary>
public enum RuleKind : uint
{
    /// <summary>Forget every rule.</summary>
    Clear = 0,
    /// <summary>Pre-create completes the create with STATUS_ACCESS_DENIED (FLT_PREOP_COMPLETE).</summary>
    DenyInPreCreate = 1,
    /// <summary>Post-create cancels the open (FltCancelFileOpen) and fails it with STATUS_ACCESS_DENIED.</summary>
    DenyInPostCreate = 2,
    /// <summary>Every pre-callback returns FLT_PREOP_PENDING; a work item resumes it after Argument ms.</summary>
    PendPre = 3,
    /// <summary>Post-create returns FLT_POSTOP_MORE_PROCESSING_REQUIRED; a work item resumes it after Argument ms.</summary>
    PendPostCreate = 4,
    /// <summary>Pre-write completes the write with STATUS_ACCESS_DENIED.</summary>
    DenyWrite = 5,
    /// <summary>Post-create reads the first Argument bytes with FltReadFile and logs them.</summary>
    ReadInPostCreate = 6,
    /// <summary>Pre-read throws (a filter bug): the kernel reports it and stops calling this filter.</summary>
    ThrowInPreRead = 7,
}

/// <summary>The filter's counters (IOCTL_KBMF_COUNTERS), per filter.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbMinifilterCounters(int InstancesSetUp, int TeardownStarts, int TeardownCompletes, int StreamContextsAlive,
    int StreamContextCleanups, int HandleContextCleanups, int MaxOpensOnOneStream, int PreCalls, int PostCalls, int DrainingPosts);

public static class KbMinifilterInterface
{
    public const string ControlName = @"\Device\KbMinifilter";
    public const string ControlWin32Name = @"\\.\KbMinifilter";
    public const string UpperAltitude = "385100";
    public const string LowerAltitude = "385000";

    /// <summary>Input: uint filter (0 upper, 1 lower), uint kind (RuleKind), uint argument, then the name fragment in UTF-16.</summary>
    public static readonly CtlCode IOCTL_KBMF_SET_RULE = CtlCode.Make(0x22, 0xB00, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Output: the log since the last call, UTF-8 lines "filter phase major file status [data]".</summary>
    public static readonly CtlCode IOCTL_KBMF_TAKE_LOG = CtlCode.Make(0x22, 0xB01, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: uint filter. Output: <see cref="KbMinifilterCounters"/>.</summary>
    public static readonly CtlCode IOCTL_KBMF_COUNTERS = CtlCode.Make(0x22, 0xB02, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: uint filter. FltUnregisterFilter on it (its instances are torn down).</summary>
    public static readonly CtlCode IOCTL_KBMF_UNREGISTER = CtlCode.Make(0x22, 0xB03, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: uint filter, uint refuse. Whether the lower filter's query-teardown callback refuses a manual detach (the upper one has none).</summary>
    public static readonly CtlCode IOCTL_KBMF_REFUSE_DETACH = CtlCode.Make(0x22, 0xB05, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: uint filter. FltDetachVolume(\Device\RamFs); the IRP's status is FltDetachVolume's.</summary>
    public static readonly CtlCode IOCTL_KBMF_DETACH = CtlCode.Make(0x22, 0xB06, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Input: uint filter. FltAttachVolume(\Device\RamFs); the IRP's status is FltAttachVolume's.</summary>
    public static readonly CtlCode IOCTL_KBMF_ATTACH = CtlCode.Make(0x22, 0xB07, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Output: int, the number of instances of the upper filter then of the lower one (FltEnumerateInstances).</summary>
    public static readonly CtlCode IOCTL_KBMF_INSTANCES = CtlCode.Make(0x22, 0xB04, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
}
