using KernelBridge.Kernel.Flt;

namespace KernelBridge.Kernel;

/// <summary>fltmgr's exports: forwarded to the filter manager.</summary>
internal sealed partial class DdkExports
{
    public FilterManager Filters { get; set; } = null!;

    public NtStatus RegisterFilter(DriverObject driver, FltRegistration registration, out FltFilter? filter) =>
        Filters.RegisterFilter(driver, registration, out filter);

    public NtStatus StartFiltering(FltFilter filter) => Filters.StartFiltering(filter);
    public void UnregisterFilter(FltFilter filter) => Filters.UnregisterFilter(filter);
    public NtStatus AttachVolume(FltFilter filter, string volumeName, out FltInstance? instance) => Filters.AttachVolume(filter, volumeName, out instance);
    public NtStatus DetachVolume(FltFilter filter, string volumeName) => Filters.DetachVolume(filter, volumeName);

    public void CompletePendedPreOperation(FltCallbackData data, FltPreopCallbackStatus callbackStatus, object? context) =>
        Filters.CompletePendedPreOperation(data, callbackStatus, context);

    public void CompletePendedPostOperation(FltCallbackData data) => Filters.CompletePendedPostOperation(data);
    public void CancelFileOpen(FltInstance instance, FileObject fileObject) => Filters.CancelFileOpen(instance, fileObject);

    public NtStatus ReadFile(FltInstance instance, FileObject fileObject, long byteOffset, Memory<byte> buffer, out int bytesRead) =>
        Filters.ReadFile(instance, fileObject, byteOffset, buffer, out bytesRead);

    public NtStatus GetContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? context) =>
        Filters.GetContext(instance, fileObject, type, out context);

    public NtStatus SetContext(FltInstance instance, FileObject fileObject, FltContextType type, FltSetContextOperation operation, object newContext,
        out object? oldContext) =>
        Filters.SetContext(instance, fileObject, type, operation, newContext, out oldContext);

    public NtStatus DeleteContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? oldContext) =>
        Filters.DeleteContext(instance, fileObject, type, out oldContext);

    public IReadOnlyList<FltInstance> InstancesOf(FltFilter filter) => Filters.InstancesOf(filter);
}
