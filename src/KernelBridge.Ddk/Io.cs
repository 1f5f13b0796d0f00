using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The I/O manager's exports (Io*), as a driver calls them.</summary>
public static partial class Io
{
    /// <summary>
    /// IoCreateDevice. <paramref name="deviceName"/> is a full name such as \Device\Echo, or null
    /// for an unnamed device. The device starts with DO_DEVICE_INITIALIZING set; clear it when ready.
    /// </summary>
    public static NtStatus CreateDevice(DriverObject driverObject, object? deviceExtension, string? deviceName,
        DeviceType deviceType, DeviceCharacteristics characteristics, bool exclusive, out DeviceObject? deviceObject) =>
        KernelRuntime.Of(driverObject).CreateDevice(driverObject, deviceExtension, deviceName, deviceType, characteristics, exclusive, out deviceObject);

    /// <summary>IoDeleteDevice: removes the name now; the object goes when its last reference does.</summary>
    public static void DeleteDevice(DeviceObject deviceObject) => KernelRuntime.Of(deviceObject).DeleteDevice(deviceObject);

    /// <summary>IoCreateSymbolicLink, e.g. \??\Echo → \Device\Echo.</summary>
    public static NtStatus CreateSymbolicLink(string symbolicLinkName, string deviceName) =>
        KernelRuntime.Current.CreateSymbolicLink(symbolicLinkName, deviceName);

    public static NtStatus DeleteSymbolicLink(string symbolicLinkName) => KernelRuntime.Current.DeleteSymbolicLink(symbolicLinkName);

    /// <summary>IoCallDriver: moves the IRP to the next stack location and calls that device's driver.</summary>
    public static NtStatus CallDriver(DeviceObject deviceObject, Irp irp) => KernelRuntime.Of(irp).CallDriver(deviceObject, irp);

    /// <summary>IoCompleteRequest: runs the completion routines up the stack, then the I/O manager's completion.</summary>
    public static void CompleteRequest(Irp irp, byte priorityBoost = IO_NO_INCREMENT) => KernelRuntime.Of(irp).CompleteRequest(irp, priorityBoost);

    public const byte IO_NO_INCREMENT = 0;

    /// <summary>IoCancelIrp: marks the IRP cancelled and calls its cancel routine; false if it had none.</summary>
    public static bool CancelIrp(Irp irp) => KernelRuntime.Of(irp).CancelIrp(irp);

    /// <summary>IoSetCancelRoutine: swaps the IRP's cancel routine, returning the previous one.</summary>
    public static DriverCancel? SetCancelRoutine(Irp irp, DriverCancel? cancelRoutine)
    {
        ArgumentNullException.ThrowIfNull(irp);
        CheckNotCompleted(irp, "IoSetCancelRoutine");
        return Interlocked.Exchange(ref irp.CancelRoutineField, cancelRoutine);
    }

    public static byte AcquireCancelSpinLock() => KernelRuntime.Current.AcquireCancelSpinLock();

    public static void ReleaseCancelSpinLock(byte irql) => KernelRuntime.Current.ReleaseCancelSpinLock(irql);

    /// <summary>The IRQL to pass back to <see cref="ReleaseCancelSpinLock"/> inside a cancel routine.</summary>
    public static byte CancelIrql(Irp irp) => irp.CancelIrql;

    /// <summary>IoAttachDeviceToDeviceStack: attaches source on top of target's stack; returns the device it attached to.</summary>
    public static DeviceObject? AttachDeviceToDeviceStack(DeviceObject sourceDevice, DeviceObject targetDevice) =>
        KernelRuntime.Of(targetDevice).AttachDeviceToDeviceStack(sourceDevice, targetDevice);

    public static void DetachDevice(DeviceObject targetDevice) => KernelRuntime.Of(targetDevice).DetachDevice(targetDevice);

    /// <summary>IoAllocateWorkItem.</summary>
    public static IoWorkItem AllocateWorkItem(DeviceObject deviceObject) => new(deviceObject ?? throw new ArgumentNullException(nameof(deviceObject)));

    /// <summary>IoQueueWorkItem: the routine runs soon on a worker thread.</summary>
    public static void QueueWorkItem(IoWorkItem item, IoWorkItemRoutine routine, WorkQueueType queueType, object? context)
    {
        _ = queueType;
        KernelRuntime.Of(item.Device).QueueWorkItem(item, routine, context);
    }

    public static void FreeWorkItem(IoWorkItem item) => _ = item;

    /// <summary>IoGetDeviceObjectPointer: the device a name leads to (the top of its stack is what IRPs should enter).</summary>
    public static NtStatus GetDeviceObjectPointer(string objectName, uint desiredAccess, out DeviceObject? deviceObject) =>
        KernelRuntime.Current.GetDeviceObjectPointer(objectName, desiredAccess, out deviceObject);

    // The stack-location macros of wdm.h.

    public static IoStackLocation GetCurrentIrpStackLocation(Irp irp)
    {
        ArgumentNullException.ThrowIfNull(irp);
        CheckNotCompleted(irp, "IoGetCurrentIrpStackLocation");
        if (irp.CurrentLocation < 1 || irp.CurrentLocation > irp.StackCount)
            throw new InvalidOperationException("the IRP has no current stack location (not sent yet, or completed)");
        return irp.StackAt(irp.CurrentLocation);
    }

    public static IoStackLocation GetNextIrpStackLocation(Irp irp)
    {
        ArgumentNullException.ThrowIfNull(irp);
        CheckNotCompleted(irp, "IoGetNextIrpStackLocation");
        if (irp.CurrentLocation < 2)
            throw new InvalidOperationException("NO_MORE_IRP_STACK_LOCATIONS: the IRP has no next stack location");
        return irp.StackAt(irp.CurrentLocation - 1);
    }

    public static void SkipCurrentIrpStackLocation(Irp irp)
    {
        ArgumentNullException.ThrowIfNull(irp);
        CheckNotCompleted(irp, "IoSkipCurrentIrpStackLocation");
        irp.CurrentLocation++;
    }

    public static void CopyCurrentIrpStackLocationToNext(Irp irp) =>
        GetCurrentIrpStackLocation(irp).CopyTo(GetNextIrpStackLocation(irp));

    /// <summary>IoMarkIrpPending: the dispatch routine will return STATUS_PENDING.</summary>
    public static void MarkIrpPending(Irp irp) => GetCurrentIrpStackLocation(irp).Control |= IoStackLocation.SL_PENDING_RETURNED;

    /// <summary>IoSetCompletionRoutine: set in the next location, called as the IRP completes back up to this driver.</summary>
    public static void SetCompletionRoutine(Irp irp, IoCompletionRoutine? routine, object? context,
        bool invokeOnSuccess, bool invokeOnError, bool invokeOnCancel)
    {
        var next = GetNextIrpStackLocation(irp);
        next.CompletionRoutine = routine;
        next.Context = context;
        next.Control = 0;
        if (invokeOnSuccess) next.Control |= IoStackLocation.SL_INVOKE_ON_SUCCESS;
        if (invokeOnError) next.Control |= IoStackLocation.SL_INVOKE_ON_ERROR;
        if (invokeOnCancel) next.Control |= IoStackLocation.SL_INVOKE_ON_CANCEL;
    }
}
