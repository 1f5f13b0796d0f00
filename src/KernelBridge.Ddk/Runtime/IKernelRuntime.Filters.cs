using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The filter manager's exports (fltmgr.sys): minifilter registration, pended operations, contexts, I/O below an instance.</summary>
internal partial interface IKernelRuntime
{
    NtStatus RegisterFilter(DriverObject driver, FltRegistration registration, out FltFilter? filter);
    NtStatus StartFiltering(FltFilter filter);
    void UnregisterFilter(FltFilter filter);
    NtStatus AttachVolume(FltFilter filter, string volumeName, out FltInstance? instance);
    NtStatus DetachVolume(FltFilter filter, string volumeName);
    void CompletePendedPreOperation(FltCallbackData data, FltPreopCallbackStatus callbackStatus, object? context);
    void CompletePendedPostOperation(FltCallbackData data);
    void CancelFileOpen(FltInstance instance, FileObject fileObject);
    NtStatus ReadFile(FltInstance instance, FileObject fileObject, long byteOffset, Memory<byte> buffer, out int bytesRead);
    NtStatus GetContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? context);
    NtStatus SetContext(FltInstance instance, FileObject fileObject, FltContextType type, FltSetContextOperation operation, object newContext,
        out object? oldContext);
    NtStatus DeleteContext(FltInstance instance, FileObject fileObject, FltContextType type, out object? oldContext);
    IReadOnlyList<FltInstance> InstancesOf(FltFilter filter);
}
