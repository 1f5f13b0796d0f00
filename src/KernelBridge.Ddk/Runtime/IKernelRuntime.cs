using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The kernel's side of the Ddk: what ntoskrnl exports and the Ddk's static classes forward to.
/// The kernel host installs its implementation once at boot.
/// </summary>
internal partial interface IKernelRuntime
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

    // Zw and Mm: handles, sections and views.
    NtStatus CloseHandle(long handle);
    NtStatus CreateSection(out long sectionHandle, uint desiredAccess, string? objectName, uint attributes, long maximumSize, uint protection,
        uint allocationAttributes, long fileHandle);
    NtStatus OpenSection(out long sectionHandle, uint desiredAccess, string objectName, uint attributes);
    NtStatus MapViewOfSection(long sectionHandle, long processHandle, ref ulong baseAddress, ref long sectionOffset, ref ulong viewSize, uint protection);
    NtStatus UnmapViewOfSection(long processHandle, ulong baseAddress);
    NtStatus MapViewInSystemSpace(SectionObject section, out ulong mappedBase, ref ulong viewSize);
    NtStatus UnmapViewInSystemSpace(ulong mappedBase);
    Memory<byte> SystemMemory(ulong address, int length);
    Mdl? AllocatePagesForMdl(long totalBytes);
    void FreePagesFromMdl(Mdl mdl);
    ulong MapLockedPagesSpecifyCache(Mdl mdl, ProcessorMode accessMode);
    void UnmapLockedPages(ulong baseAddress, Mdl mdl);
    NtStatus MapSectionIntoCurrentProcess(SectionObject section, ref ulong baseAddress, ref ulong viewSize, uint protection);
    NtStatus CreateSectionObject(long length, out SectionObject? section, out ulong systemAddress);
    void ReleaseSectionObject(SectionObject section, ulong systemAddress);
    Abi.Rings.IRingDoorbell Doorbell { get; }
}

/// <summary>
/// Where the Ddk finds its kernel: the one that made the object a call names, else the one running
/// driver code on this thread (every call into a driver — DriverEntry, dispatch, completion and
/// cancel routines, DPCs, work items — runs inside its kernel's scope). Nothing is process-wide, so
/// two kernels can live in one process.
/// </summary>
internal static class KernelRuntime
{
    [ThreadStatic] private static IKernelRuntime? _ambient;

    private const string NoKernel =
        "no KernelBridge kernel is running this code: call the Ddk from DriverEntry, a dispatch, completion or cancel routine, a DPC or a work item, or name an object the kernel made";

    /// <summary>The kernel running driver code on this thread, if any.</summary>
    public static IKernelRuntime? Ambient => _ambient;

    /// <summary>The kernel for a call that names no object.</summary>
    public static IKernelRuntime Current => _ambient ?? throw new InvalidOperationException(NoKernel);

    /// <summary>The kernel <paramref name="obj"/> belongs to (an object made outside any kernel joins the running one).</summary>
    public static IKernelRuntime Of(KernelObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return obj.Header.Runtime ??= _ambient ?? throw new InvalidOperationException(NoKernel);
    }

    public static IKernelRuntime Of(Irp irp)
    {
        ArgumentNullException.ThrowIfNull(irp);
        return irp.Runtime ?? Current;
    }

    /// <summary>Runs the rest of the scope as <paramref name="runtime"/>'s code (restored on dispose).</summary>
    public static Scope Enter(IKernelRuntime runtime) => new(runtime);

    public readonly ref struct Scope
    {
        private readonly IKernelRuntime? _saved;

        public Scope(IKernelRuntime runtime)
        {
            _saved = _ambient;
            _ambient = runtime;
        }

        public void Dispose() => _ambient = _saved;
    }
}
