using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestFilterDriver;

/// <summary>What the filter has seen (IOCTL_KBFILTER_COUNTERS).</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct KbFilterCounters(int PassedDown, int Altered, int CompletionCalls, int PendingReturnedSeen, int MoreProcessingHeld,
    int LastCompletionStatus, int LastCompletionLocation, int Skipped);

/// <summary>How the filter's completion routine behaves (IOCTL_KBFILTER_SET_MODE).</summary>
public enum FilterMode
{
    /// <summary>Alter and let completion continue (propagating pending as the rule says).</summary>
    Continue = 0,
    /// <summary>Return STATUS_MORE_PROCESSING_REQUIRED, then complete the IRP again later from a work item.</summary>
    HoldAndRecomplete = 1,
    /// <summary>Continue, but "forget" to propagate PendingReturned (the classic filter bug).</summary>
    ForgetPending = 2,
}

/// <summary>
/// A filter above \Device\KbTestStack. On the way down it flips bit 5 of the FillByte in a
/// RETURN_BUFFERED request (request alteration); on the way up its completion routine writes 'F'
/// over the first output byte (completion alteration). Everything else passes with
/// IoSkipCurrentIrpStackLocation. Its control device, \Device\KbFilterControl, reports counters.
/// </summary>
public sealed class KbFilterDriver : IDriver
{
    public const string ControlName = @"\Device\KbFilterControl";
    public const string ControlWin32Name = @"\\.\KbFilterControl";
    public const string TargetName = @"\Device\KbTestStack";
    public static readonly CtlCode IOCTL_KBFILTER_COUNTERS = CtlCode.Make(0x22, 0xA00, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
    public static readonly CtlCode IOCTL_KBFILTER_SET_MODE = CtlCode.Make(0x22, 0xA01, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);
    private static readonly uint ReturnBuffered = CtlCode.Make(0x22, 0x900, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS).Value;

    private sealed class FilterExtension
    {
        public DeviceObject? Lower;
        public bool IsControl;
        public int PassedDown, Altered, CompletionCalls, PendingReturnedSeen, MoreProcessingHeld, LastStatus, LastLocation, Skipped;
        public FilterMode Mode;
    }

    private static FilterExtension? _state;

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var state = new FilterExtension();
        _state = state;
        var status = Io.GetDeviceObjectPointer(TargetName, AccessMask.FILE_READ_DATA, out var target);
        if (!status.IsSuccess) return status;
        status = Io.CreateDevice(driverObject, state, null, target!.DeviceType, DeviceCharacteristics.None, false, out var filter);
        if (!status.IsSuccess) return status;
        filter!.Flags |= target.Flags & (DeviceFlags.DO_BUFFERED_IO | DeviceFlags.DO_DIRECT_IO);
        state.Lower = Io.AttachDeviceToDeviceStack(filter, target);
        Ob.DereferenceObject(target);
        if (state.Lower is null) return NtStatus.STATUS_NO_SUCH_DEVICE;
        filter.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;

        status = Io.CreateDevice(driverObject, new FilterExtension { IsControl = true }, ControlName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.None, false, out var control);
        if (!status.IsSuccess) return status;
        Io.CreateSymbolicLink(@"\??\KbFilterControl", ControlName);
        control!.Flags |= DeviceFlags.DO_BUFFERED_IO;
        control.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;

        for (var major = 0; major < driverObject.MajorFunction.Length; major++) driverObject.MajorFunction[major] = Dispatch;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus Dispatch(DeviceObject device, Irp irp)
    {
        var extension = device.Extension<FilterExtension>();
        if (extension.IsControl) return Control(irp);
        var stack = Io.GetCurrentIrpStackLocation(irp);
        Interlocked.Increment(ref _state!.PassedDown);
        if (stack.MajorFunction != IrpMajorFunction.IRP_MJ_DEVICE_CONTROL || stack.Parameters.DeviceIoControl.IoControlCode != ReturnBuffered)
        {
            Interlocked.Increment(ref _state.Skipped);
            Io.SkipCurrentIrpStackLocation(irp);
            return Io.CallDriver(extension.Lower!, irp);
        }
        // The request, altered on its way down: the fill byte the lower driver will use.
        var span = irp.SystemBuffer.Span;
        if (stack.Parameters.DeviceIoControl.InputBufferLength >= 32)
        {
            span[24] ^= 0x20;
            Interlocked.Increment(ref _state.Altered);
        }
        Io.CopyCurrentIrpStackLocationToNext(irp);
        Io.SetCompletionRoutine(irp, Completed, device, invokeOnSuccess: true, invokeOnError: true, invokeOnCancel: true);
        if (_state.Mode != FilterMode.HoldAndRecomplete) return Io.CallDriver(extension.Lower!, irp);
        // The completion routine will keep the IRP (STATUS_MORE_PROCESSING_REQUIRED) and finish it later:
        // whatever the lower driver answers, this dispatch must say pending.
        Io.MarkIrpPending(irp);
        Io.CallDriver(extension.Lower!, irp);
        return NtStatus.STATUS_PENDING;
    }

    private static NtStatus Completed(DeviceObject? device, Irp irp, object? context)
    {
        var state = _state!;
        Interlocked.Increment(ref state.CompletionCalls);
        if (irp.PendingReturned) Interlocked.Increment(ref state.PendingReturnedSeen);
        state.LastStatus = irp.IoStatus.Status;
        state.LastLocation = irp.CurrentLocation;
        if (irp.IoStatus.Status.IsSuccess && irp.IoStatus.Information > 0 && irp.SystemBuffer.Length > 0) irp.SystemBuffer.Span[0] = (byte)'F';
        switch (state.Mode)
        {
            case FilterMode.HoldAndRecomplete:
                Interlocked.Increment(ref state.MoreProcessingHeld);
                var item = Io.AllocateWorkItem((DeviceObject)context!);
                Io.QueueWorkItem(item, (_, held) =>
                {
                    var heldIrp = (Irp)held!;
                    heldIrp.IoStatus.Information = Math.Max(0, heldIrp.IoStatus.Information - 1);
                    Io.CompleteRequest(heldIrp);
                }, WorkQueueType.DelayedWorkQueue, irp);
                return NtStatus.STATUS_MORE_PROCESSING_REQUIRED;
            case FilterMode.ForgetPending:
                return NtStatus.STATUS_SUCCESS;
            default:
                if (irp.PendingReturned) Io.MarkIrpPending(irp);
                return NtStatus.STATUS_SUCCESS;
        }
    }

    private static NtStatus Control(Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var status = NtStatus.STATUS_SUCCESS;
        long information = 0;
        if (stack.MajorFunction == IrpMajorFunction.IRP_MJ_DEVICE_CONTROL)
        {
            var code = stack.Parameters.DeviceIoControl.IoControlCode;
            var state = _state!;
            if (code == IOCTL_KBFILTER_COUNTERS.Value && stack.Parameters.DeviceIoControl.OutputBufferLength >= Marshal.SizeOf<KbFilterCounters>())
            {
                var counters = new KbFilterCounters(state.PassedDown, state.Altered, state.CompletionCalls, state.PendingReturnedSeen,
                    state.MoreProcessingHeld, state.LastStatus, state.LastLocation, state.Skipped);
                MemoryMarshal.Write(irp.SystemBuffer.Span, in counters);
                information = Marshal.SizeOf<KbFilterCounters>();
            }
            else if (code == IOCTL_KBFILTER_SET_MODE.Value && stack.Parameters.DeviceIoControl.InputBufferLength >= 4)
                state.Mode = (FilterMode)MemoryMarshal.Read<int>(irp.SystemBuffer.Span);
            else status = NtStatus.STATUS_INVALID_DEVICE_REQUEST;
        }
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }
}
