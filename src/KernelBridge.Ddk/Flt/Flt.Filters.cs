using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// The filter manager (FltXxx): minifilters register pre- and post-operation callbacks, are
/// attached to file-system volumes as instances ordered by altitude, and see every create, read,
/// write, cleanup and close on them. See docs/minifilters.md.
/// </summary>
public static partial class Flt
{
    /// <summary>FltRegisterFilter: the filter exists but sees nothing until <see cref="StartFiltering"/>.</summary>
    public static NtStatus RegisterFilter(DriverObject driver, FltRegistration registration, out FltFilter? filter)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(registration);
        return KernelRuntime.Of(driver).RegisterFilter(driver, registration, out filter);
    }

    /// <summary>FltStartFiltering: offers every mounted volume (and each one mounted later) to the filter's InstanceSetupCallback.</summary>
    public static NtStatus StartFiltering(FltFilter filter) => KernelRuntime.Of(filter.DriverObject).StartFiltering(filter);

    /// <summary>FltUnregisterFilter: tears every instance down (teardown callbacks, contexts freed) and forgets the filter.</summary>
    public static void UnregisterFilter(FltFilter filter) => KernelRuntime.Of(filter.DriverObject).UnregisterFilter(filter);

    /// <summary>
    /// FltAttachVolume: attaches the filter to the volume named (\Device\RamFs) at its altitude, asking
    /// its InstanceSetupCallback (FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT). STATUS_FLT_INSTANCE_ALTITUDE_COLLISION
    /// if an instance is there already; STATUS_INVALID_PARAMETER for a name that is not a volume.
    /// </summary>
    public static NtStatus AttachVolume(FltFilter filter, string volumeName, out FltInstance? instance) =>
        KernelRuntime.Of(filter.DriverObject).AttachVolume(filter, volumeName, out instance);

    /// <summary>
    /// FltDetachVolume: asks the instance's InstanceQueryTeardownCallback (none defined: always
    /// refused, STATUS_FLT_DO_NOT_DETACH), then tears it down (FLTFL_INSTANCE_TEARDOWN_MANUAL).
    /// </summary>
    public static NtStatus DetachVolume(FltFilter filter, string volumeName) => KernelRuntime.Of(filter.DriverObject).DetachVolume(filter, volumeName);

    /// <summary>FltCompletePendedPreOperation: resumes an operation a pre-callback returned FLT_PREOP_PENDING for.</summary>
    public static void CompletePendedPreOperation(FltCallbackData data, FltPreopCallbackStatus callbackStatus, object? context) =>
        KernelRuntime.Of(data.Irp).CompletePendedPreOperation(data, callbackStatus, context);

    /// <summary>FltCompletePendedPostOperation: resumes a completion a post-callback returned FLT_POSTOP_MORE_PROCESSING_REQUIRED for.</summary>
    public static void CompletePendedPostOperation(FltCallbackData data) => KernelRuntime.Of(data.Irp).CompletePendedPostOperation(data);

    /// <summary>
    /// FltCancelFileOpen: from a post-create callback, undoes an open the file system granted (it sees
    /// CLEANUP and CLOSE). The callback then fails the create by setting Data.IoStatus.
    /// </summary>
    public static void CancelFileOpen(FltInstance instance, FileObject fileObject) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).CancelFileOpen(instance, fileObject);

    /// <summary>FltReadFile (synchronous): reads from the file through the instances below this one and the file system only.</summary>
    public static NtStatus ReadFile(FltInstance instance, FileObject fileObject, long byteOffset, Memory<byte> buffer, out int bytesRead) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).ReadFile(instance, fileObject, byteOffset, buffer, out bytesRead);

    /// <summary>FltSetCallbackDataDirty: the filter changed Data.Iopb.Parameters.</summary>
    public static void SetCallbackDataDirty(FltCallbackData data) => data.Flags |= FltCallbackDataFlags.FLTFL_CALLBACK_DATA_DIRTY;

    /// <summary>FltGetRequestorProcessId: the pid of the process that issued the operation (0 for the kernel).</summary>
    public static int GetRequestorProcessId(FltCallbackData data) => data.RequestorProcessId;

    /// <summary>FltGetRequestorProcess: the process that issued the operation, or null for the kernel's own.</summary>
    public static KernelObject? GetRequestorProcess(FltCallbackData data) => data.RequestorProcess;

    /// <summary>The instances a filter has (FltEnumerateInstances for one filter).</summary>
    public static IReadOnlyList<FltInstance> EnumerateInstances(FltFilter filter) => KernelRuntime.Of(filter.DriverObject).InstancesOf(filter);

    /// <summary>FltGetStreamContext: STATUS_NOT_FOUND when the instance set none on this stream.</summary>
    public static NtStatus GetStreamContext(FltInstance instance, FileObject fileObject, out object? context) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).GetContext(instance, fileObject, FltContextType.FLT_STREAM_CONTEXT, out context);

    /// <summary>FltSetStreamContext: KEEP_IF_EXISTS gives STATUS_FLT_CONTEXT_ALREADY_DEFINED and the existing one.</summary>
    public static NtStatus SetStreamContext(FltInstance instance, FileObject fileObject, FltSetContextOperation operation, object newContext,
        out object? oldContext) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).SetContext(instance, fileObject, FltContextType.FLT_STREAM_CONTEXT, operation, newContext, out oldContext);

    /// <summary>FltDeleteStreamContext: removes the context (its cleanup callback runs).</summary>
    public static NtStatus DeleteStreamContext(FltInstance instance, FileObject fileObject, out object? oldContext) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).DeleteContext(instance, fileObject, FltContextType.FLT_STREAM_CONTEXT, out oldContext);

    /// <summary>FltGetStreamHandleContext: the context of this open (file object).</summary>
    public static NtStatus GetStreamHandleContext(FltInstance instance, FileObject fileObject, out object? context) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).GetContext(instance, fileObject, FltContextType.FLT_STREAMHANDLE_CONTEXT, out context);

    /// <summary>FltSetStreamHandleContext.</summary>
    public static NtStatus SetStreamHandleContext(FltInstance instance, FileObject fileObject, FltSetContextOperation operation, object newContext,
        out object? oldContext) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).SetContext(instance, fileObject, FltContextType.FLT_STREAMHANDLE_CONTEXT, operation, newContext,
            out oldContext);

    /// <summary>FltDeleteStreamHandleContext.</summary>
    public static NtStatus DeleteStreamHandleContext(FltInstance instance, FileObject fileObject, out object? oldContext) =>
        KernelRuntime.Of(instance.Volume.DeviceObject).DeleteContext(instance, fileObject, FltContextType.FLT_STREAMHANDLE_CONTEXT, out oldContext);
}
