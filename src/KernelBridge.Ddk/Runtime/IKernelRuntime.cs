using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The kernel's side of the Ddk: what ntoskrnl exports and the Ddk's static classes forward to.
/// The kernel host installs its implementation once at boot.
/// </summary>
internal interface IKernelRuntime
{
    NtStatus CreateDevice(DriverObject driver, object? extension, string? deviceName, DeviceType deviceType,
        DeviceCharacteristics characteristics, bool exclusive, out DeviceObject? device);
    void DeleteDevice(DeviceObject device);
    NtStatus CreateSymbolicLink(string linkName, string targetName);
    NtStatus DeleteSymbolicLink(string linkName);
    NtStatus CallDriver(DeviceObject device, Irp irp);
    void CompleteRequest(Irp irp, byte priorityBoost);
    bool CancelIrp(Irp irp);
    byte AcquireCancelSpinLock();
    void ReleaseCancelSpinLock(byte irql);
    DeviceObject? AttachDeviceToDeviceStack(DeviceObject source, DeviceObject target);
    void DetachDevice(DeviceObject target);
    NtStatus ReferenceObjectByHandle(long handle, uint desiredAccess, ObjectType? type, ProcessorMode accessMode, out KernelObject? obj);
    void ReferenceObject(KernelObject obj);
    void DereferenceObject(KernelObject obj);
    NtStatus GetDeviceObjectPointer(string objectName, uint desiredAccess, out DeviceObject? device);

    // Ke: the dispatcher.
    int SetEvent(KEvent kevent);
    int ResetEvent(KEvent kevent);
    int PulseEvent(KEvent kevent);
    int ReleaseSemaphore(KSemaphore semaphore, int adjustment);
    int ReleaseMutant(KMutant mutant, bool abandon);
    bool SetTimer(KTimer timer, long dueTime, int periodMilliseconds, KDpc? dpc);
    bool CancelTimer(KTimer timer);
    NtStatus Wait(DispatcherObject[] objects, bool waitAll, bool alertable, long? timeout);
    void QueueWorkItem(IoWorkItem item, IoWorkItemRoutine routine, object? context);
}

/// <summary>Where the Ddk finds the running kernel.</summary>
internal static class KernelRuntime
{
    private static IKernelRuntime? _current;

    public static IKernelRuntime Current => _current ?? throw new InvalidOperationException("no KernelBridge kernel is running in this process");

    public static void Install(IKernelRuntime runtime)
    {
        if (Interlocked.CompareExchange(ref _current, runtime, null) is not null)
            throw new InvalidOperationException("a kernel is already installed in this process");
    }
}
