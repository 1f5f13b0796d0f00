using KernelBridge.Abi;

namespace KernelBridge.TestDriver;

/// <summary>
/// Control codes that make the test driver break one rule of the I/O manager each (what the driver
/// verifier must catch). Every one answers on the device it is sent to; the tests load the driver
/// under a name of their own, so the fault isolates only that copy.
/// </summary>
public static class KbTestFaultInterface
{
    private static CtlCode Code(uint function, TransferMethod method = TransferMethod.METHOD_BUFFERED) =>
        CtlCode.Make(0x22, function, method, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Completes the IRP, then completes it again; returns STATUS_SUCCESS.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_COMPLETE_TWICE = Code(0x950);
    /// <summary>Completes the IRP, then calls IoGetCurrentIrpStackLocation on it inside the dispatch routine.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_TOUCH_AFTER_COMPLETE = Code(0x951);
    /// <summary>Returns STATUS_PENDING without IoMarkIrpPending, and completes the IRP 200 ms later.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_PENDING_UNMARKED = Code(0x952);
    /// <summary>IoMarkIrpPending, completes the IRP, returns STATUS_SUCCESS.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING = Code(0x953);
    /// <summary>IoMarkIrpPending, keeps the IRP with no cancel routine and never completes it; returns STATUS_PENDING.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_NEVER_COMPLETE = Code(0x954);
    /// <summary>Completes with STATUS_SUCCESS and Information 16 bytes beyond the output buffer (buffered).</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN = Code(0x955);
    /// <summary>As <see cref="IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN"/>, METHOD_OUT_DIRECT.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN_DIRECT = Code(0x956, TransferMethod.METHOD_OUT_DIRECT);
    /// <summary>In: a long, a handle of the caller's. ObReferenceObjectByHandle on it, never dereferenced; completes with STATUS_SUCCESS.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_LEAK_REFERENCE = Code(0x957);
    /// <summary>Completes the IRP with STATUS_SUCCESS, and 100 ms later (the request long over) calls IoGetCurrentIrpStackLocation on it.</summary>
    public static readonly CtlCode IOCTL_KBTEST_FAULT_TOUCH_LATER = Code(0x958);
}
