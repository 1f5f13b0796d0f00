using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel;

/// <summary>What the Ddk's Io, Ob and Ke classes reach: the kernel's own implementations.</summary>
internal sealed class DdkExports(IoManager io, ObjectManager ob) : IKernelRuntime
{
    public NtStatus CreateDevice(DriverObject driver, object? extension, string? deviceName, DeviceType deviceType,
        DeviceCharacteristics characteristics, bool exclusive, out DeviceObject? device) =>
        io.CreateDevice(driver, extension, deviceName, deviceType, characteristics, exclusive, out device);

    public void DeleteDevice(DeviceObject device) => io.DeleteDevice(device);
    public NtStatus CreateSymbolicLink(string linkName, string targetName) => io.CreateSymbolicLink(linkName, targetName);
    public NtStatus DeleteSymbolicLink(string linkName) => io.DeleteSymbolicLink(linkName);
    public NtStatus CallDriver(DeviceObject device, Irp irp) => io.CallDriver(device, irp);
    public void CompleteRequest(Irp irp, byte priorityBoost) => io.CompleteRequest(irp, priorityBoost);
    public bool CancelIrp(Irp irp) => io.CancelIrp(irp);
    public byte AcquireCancelSpinLock() => io.AcquireCancelSpinLock();
    public void ReleaseCancelSpinLock(byte irql) => io.ReleaseCancelSpinLock(irql);
    public DeviceObject? AttachDeviceToDeviceStack(DeviceObject source, DeviceObject target) => io.AttachDeviceToDeviceStack(source, target);
    public void DetachDevice(DeviceObject target) => io.DetachDevice(target);

    /// <summary>Looks the handle up in the process the driver is running on behalf of.</summary>
    public NtStatus ReferenceObjectByHandle(long handle, uint desiredAccess, ObjectType? type, ProcessorMode accessMode, out KernelObject? obj)
    {
        obj = null;
        if (CurrentContext.Process is not { } process) return NtStatus.STATUS_INVALID_HANDLE;
        return ObjectManager.ReferenceByHandle(process, CurrentContext.Thread, handle, desiredAccess, type, accessMode, out obj, out _);
    }

    public void ReferenceObject(KernelObject obj) => ObjectManager.Reference(obj);
    public void DereferenceObject(KernelObject obj) => ob.Dereference(obj);
}
