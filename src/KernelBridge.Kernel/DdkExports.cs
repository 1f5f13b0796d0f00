using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel;

/// <summary>What the Ddk's Io, Ob and Ke classes reach: the kernel's own implementations.</summary>
internal sealed partial class DdkExports(IoManager io, ObjectManager ob, Ke.Dispatcher dispatcher, Mm.MemoryManager mm, ProcessManager processes)
    : IKernelRuntime
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
        var (process, thread, value) = HandleOwner(handle, accessMode);
        if (process is null) return NtStatus.STATUS_INVALID_HANDLE;
        var status = ObjectManager.ReferenceByHandle(process, thread, value, desiredAccess, type, accessMode, out obj, out _);
        if (status.IsSuccess && obj is not null) io.Verifier.Referenced(obj);
        return status;
    }

    public void ReferenceObject(KernelObject obj)
    {
        ObjectManager.Reference(obj);
        io.Verifier.Referenced(obj);
    }

    public void DereferenceObject(KernelObject obj)
    {
        io.Verifier.Dereferenced(obj);
        ob.Dereference(obj);
    }

    public NtStatus GetDeviceObjectPointer(string objectName, uint desiredAccess, out DeviceObject? device)
    {
        device = null;
        var status = ob.LookupObject(objectName, null, caseInsensitive: true, openLink: false, out var found, out var remaining);
        if (!status.IsSuccess) return status;
        if (found is not DeviceObject target || remaining.Length != 0)
        {
            ob.Dereference(found!);
            return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        device = io.GetAttachedDevice(target);
        if (!ReferenceEquals(device, target))
        {
            ObjectManager.Reference(device);
            ob.Dereference(target);
        }
        return NtStatus.STATUS_SUCCESS;
    }

    public int SetEvent(KEvent kevent) => dispatcher.SetEvent(kevent);
    public int ResetEvent(KEvent kevent) => dispatcher.ResetEvent(kevent);
    public int PulseEvent(KEvent kevent) => dispatcher.PulseEvent(kevent);

    public int ReleaseSemaphore(KSemaphore semaphore, int adjustment) =>
        dispatcher.ReleaseSemaphore(semaphore, adjustment) ?? throw new InvalidOperationException("STATUS_SEMAPHORE_LIMIT_EXCEEDED: KeReleaseSemaphore past the limit");

    public int ReleaseMutant(KMutant mutant, bool abandon) =>
        dispatcher.ReleaseMutant(mutant, Ke.KernelThread.Current) ?? throw new InvalidOperationException("STATUS_MUTANT_NOT_OWNED: KeReleaseMutex by a thread that does not own it");

    public bool SetTimer(KTimer timer, long dueTime, int periodMilliseconds, KDpc? dpc) => dispatcher.SetTimer(timer, dueTime, periodMilliseconds, dpc);
    public bool CancelTimer(KTimer timer) => dispatcher.CancelTimer(timer);
    public NtStatus Wait(DispatcherObject[] objects, bool waitAll, bool alertable, long? timeout) => dispatcher.WaitBlocking(objects, waitAll, alertable, timeout);
    public void QueueWorkItem(IoWorkItem item, IoWorkItemRoutine routine, object? context) => io.QueueWorkItem(item, routine, context);
}
