using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>A driver's dispatch routine for one IRP major function (DRIVER_DISPATCH).</summary>
public delegate NtStatus DriverDispatch(DeviceObject deviceObject, Irp irp);

/// <summary>DRIVER_UNLOAD: undo everything DriverEntry did.</summary>
public delegate void DriverUnload(DriverObject driverObject);

/// <summary>
/// IO_COMPLETION_ROUTINE. Returning STATUS_MORE_PROCESSING_REQUIRED stops completion; the
/// routine's owner must complete the IRP again later.
/// </summary>
public delegate NtStatus IoCompletionRoutine(DeviceObject? deviceObject, Irp irp, object? context);

/// <summary>
/// DRIVER_CANCEL: called with the cancel spin lock held; the routine must release it with
/// <see cref="Io.ReleaseCancelSpinLock"/> and complete the IRP with STATUS_CANCELLED.
/// </summary>
public delegate void DriverCancel(DeviceObject deviceObject, Irp irp);

/// <summary>The entry point every driver exposes (DriverEntry).</summary>
public interface IDriver
{
    /// <summary>Called once when the driver loads; registryPath is its service key.</summary>
    static abstract NtStatus DriverEntry(DriverObject driverObject, string registryPath);
}

/// <summary>Processor modes: where a request came from.</summary>
public enum ProcessorMode : byte
{
    KernelMode = 0,
    UserMode = 1,
}

/// <summary>A DriverEntry as a value: how the kernel host is told about built-in drivers.</summary>
public delegate NtStatus DriverInitialize(DriverObject driverObject, string registryPath);
