using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

public sealed partial class KbTestDriver
{
    /// <summary>IRPs the NEVER_COMPLETE fault keeps (and the objects LEAK_REFERENCE keeps), so nothing but the kernel can let go of them.</summary>
    private static readonly ConcurrentBag<object> Kept = [];

    /// <summary>The driver bugs of <see cref="KbTestFaultInterface"/>, one per control code.</summary>
    private static NtStatus FaultControl(Irp irp, CtlCode code, ReadOnlySpan<byte> input, int outputLength)
    {
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_COMPLETE_TWICE)
        {
            Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_TOUCH_AFTER_COMPLETE)
        {
            Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            return Io.GetCurrentIrpStackLocation(irp).MajorFunction == IrpMajorFunction.IRP_MJ_DEVICE_CONTROL ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_UNSUCCESSFUL;
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_PENDING_UNMARKED)
        {
            _ = Task.Delay(200).ContinueWith(_ => Complete(irp, NtStatus.STATUS_SUCCESS, 0), TaskScheduler.Default);
            return NtStatus.STATUS_PENDING;
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_MARKED_NOT_PENDING)
        {
            Io.MarkIrpPending(irp);
            Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_NEVER_COMPLETE)
        {
            Io.MarkIrpPending(irp);
            Kept.Add(irp);
            return NtStatus.STATUS_PENDING;
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN || code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_INFORMATION_OVERRUN_DIRECT)
            return Complete(irp, NtStatus.STATUS_SUCCESS, outputLength + 16);
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_LEAK_REFERENCE)
        {
            if (input.Length < sizeof(long)) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var status = Ob.ReferenceObjectByHandle(MemoryMarshal.Read<long>(input), 0, null, ProcessorMode.UserMode, out var referenced);
            if (status.IsSuccess) Kept.Add(referenced!);
            return Complete(irp, status, 0);
        }
        if (code == KbTestFaultInterface.IOCTL_KBTEST_FAULT_TOUCH_LATER)
        {
            Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            _ = Task.Delay(100).ContinueWith(_ => Io.GetCurrentIrpStackLocation(irp), TaskScheduler.Default);
            return NtStatus.STATUS_SUCCESS;
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}
