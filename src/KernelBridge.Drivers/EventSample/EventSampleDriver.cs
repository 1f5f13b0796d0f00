using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.EventSample;

/// <summary>
/// The inverted call, both ways (Windows-driver-samples general/event): an application registers
/// for a notification after a due time, either by an IOCTL that pends until the driver's timer
/// completes it (IRP-based), or by handing down an event the driver signals (event-based). Pended
/// IRPs sit in a cancel-safe queue, so CancelIo, closing the handle and process exit all end them
/// cleanly; IRP_MJ_CLEANUP drops whatever the closing file still had registered.
/// </summary>
public sealed class EventSampleDriver : IDriver
{
    /// <summary>One registration: its timer, and the IRP or event it will complete or signal.</summary>
    private sealed class Notification
    {
        public required NotifyType Type;
        public required FileObject File;
        public required KTimer Timer;
        public IoCsqIrpContext? IrpContext;
        public KEvent? Event;
    }

    private sealed class DeviceState
    {
        public readonly CancelSafeQueue PendingIrps = new();
        public readonly List<Notification> Notifications = [];
    }

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, new DeviceState(), EventSampleInterface.DeviceName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        status = Io.CreateSymbolicLink(EventSampleInterface.DosName, EventSampleInterface.DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            return status;
        }
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Cleanup;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = d =>
        {
            Io.DeleteSymbolicLink(EventSampleInterface.DosName);
            while (d.DeviceObject is { } dev) Io.DeleteDevice(dev);
        };
        device!.Flags |= DeviceFlags.DO_BUFFERED_IO;
        device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus Complete(Irp irp, NtStatus status)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = 0;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS);

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var parameters = stack.Parameters.DeviceIoControl;
        if (parameters.IoControlCode != EventSampleInterface.IOCTL_REGISTER_EVENT.Value) return Complete(irp, NtStatus.STATUS_NOT_IMPLEMENTED);
        if (parameters.InputBufferLength < Marshal.SizeOf<RegisterEvent>()) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
        var request = MemoryMarshal.Read<RegisterEvent>(irp.SystemBuffer.Span);
        // A positive (absolute) due time is taken as relative, as the sample does.
        var dueTime = request.DueTime > 0 ? -request.DueTime : request.DueTime;
        var state = device.Extension<DeviceState>();
        return request.Type switch
        {
            NotifyType.IrpBased => RegisterIrp(state, irp, stack.FileObject!, dueTime),
            NotifyType.EventBased => RegisterEventNotification(state, irp, stack.FileObject!, request.EventHandle, dueTime),
            _ => Complete(irp, NtStatus.STATUS_INVALID_PARAMETER),
        };
    }

    private static NtStatus RegisterIrp(DeviceState state, Irp irp, FileObject file, long dueTime)
    {
        var notification = new Notification { Type = NotifyType.IrpBased, File = file, Timer = Ke.InitializeTimer(), IrpContext = new IoCsqIrpContext() };
        lock (state.Notifications) state.Notifications.Add(notification);
        // The queue marks the IRP pending and owns the cancel race from here on.
        state.PendingIrps.Insert(irp, notification.IrpContext);
        Ke.SetTimer(notification.Timer, dueTime, Ke.InitializeDpc(TimerFired, (state, notification)));
        return NtStatus.STATUS_PENDING;
    }

    private static NtStatus RegisterEventNotification(DeviceState state, Irp irp, FileObject file, long eventHandle, long dueTime)
    {
        // The top-level driver runs in the caller's context, so the handle means what the caller meant.
        var status = Ob.ReferenceObjectByHandle<KEvent>(eventHandle, AccessMask.SYNCHRONIZE | AccessMask.EVENT_MODIFY_STATE,
            ObjectTypes.Event, irp.RequestorMode, out var kevent);
        if (!status.IsSuccess) return Complete(irp, status);
        var notification = new Notification { Type = NotifyType.EventBased, File = file, Timer = Ke.InitializeTimer(), Event = kevent };
        lock (state.Notifications) state.Notifications.Add(notification);
        Ke.SetTimer(notification.Timer, dueTime, Ke.InitializeDpc(TimerFired, (state, notification)));
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }

    /// <summary>The DPC: complete the waiting IRP, or signal the event and let go of it.</summary>
    private static void TimerFired(KDpc dpc, object? context, object? argument1, object? argument2)
    {
        var (state, notification) = ((DeviceState, Notification))context!;
        lock (state.Notifications)
        {
            if (!state.Notifications.Remove(notification)) return;
        }
        if (notification.Type == NotifyType.IrpBased)
        {
            // Null if the IRP was cancelled meanwhile: its cancellation completed it.
            if (IoCsq.RemoveIrp(state.PendingIrps, notification.IrpContext!) is { } irp) Complete(irp, NtStatus.STATUS_SUCCESS);
            return;
        }
        Ke.SetEvent(notification.Event!);
        Ob.DereferenceObject(notification.Event!);
    }

    /// <summary>
    /// IRP_MJ_CLEANUP: the file's last handle closed. Stop its timers, cancel its pended IRPs,
    /// drop its events unsignalled.
    /// </summary>
    private static NtStatus Cleanup(DeviceObject device, Irp irp)
    {
        var state = device.Extension<DeviceState>();
        var file = Io.GetCurrentIrpStackLocation(irp).FileObject!;
        List<Notification> mine;
        lock (state.Notifications)
        {
            mine = state.Notifications.Where(n => ReferenceEquals(n.File, file) && Ke.CancelTimer(n.Timer)).ToList();
            foreach (var notification in mine) state.Notifications.Remove(notification);
        }
        foreach (var notification in mine.Where(n => n.Event is not null)) Ob.DereferenceObject(notification.Event!);
        state.PendingIrps.CompleteAll(file, NtStatus.STATUS_CANCELLED);
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }
}
