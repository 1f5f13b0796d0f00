using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>FLT_PREOP_CALLBACK_STATUS: what a pre-operation callback tells the filter manager to do next.</summary>
public enum FltPreopCallbackStatus
{
    /// <summary>Pass the operation on, and call this instance's post-operation callback when it completes.</summary>
    FLT_PREOP_SUCCESS_WITH_CALLBACK = 0,
    /// <summary>Pass the operation on; no post-operation callback for this instance.</summary>
    FLT_PREOP_SUCCESS_NO_CALLBACK = 1,
    /// <summary>The filter holds the operation and resumes it later with <see cref="Flt.CompletePendedPreOperation"/>.</summary>
    FLT_PREOP_PENDING = 2,
    /// <summary>For fast I/O only; for an IRP operation it acts as <see cref="FLT_PREOP_SUCCESS_NO_CALLBACK"/>.</summary>
    FLT_PREOP_DISALLOW_FASTIO = 3,
    /// <summary>The filter completed the operation: Data.IoStatus is the result; lower instances and the file system never see it.</summary>
    FLT_PREOP_COMPLETE = 4,
    /// <summary>Pass it on and call the post-operation callback on the thread that issued the operation.</summary>
    FLT_PREOP_SYNCHRONIZE = 5,
}

/// <summary>FLT_POSTOP_CALLBACK_STATUS.</summary>
public enum FltPostopCallbackStatus
{
    FLT_POSTOP_FINISHED_PROCESSING = 0,
    /// <summary>The filter holds the completion and resumes it later with <see cref="Flt.CompletePendedPostOperation"/>.</summary>
    FLT_POSTOP_MORE_PROCESSING_REQUIRED = 1,
}

/// <summary>FLT_POST_OPERATION_FLAGS.</summary>
[Flags]
public enum FltPostOperationFlags : uint
{
    None = 0,
    /// <summary>The instance is being torn down: the operation is drained, and the callback must not pend it or touch the file.</summary>
    FLTFL_POST_OPERATION_DRAINING = 0x00000001,
}

/// <summary>FLT_INSTANCE_SETUP_FLAGS.</summary>
[Flags]
public enum FltInstanceSetupFlags : uint
{
    None = 0,
    FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT = 0x00000001,
    FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT = 0x00000002,
    FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME = 0x00000004,
}

/// <summary>FLT_INSTANCE_TEARDOWN_FLAGS: why an instance goes away.</summary>
[Flags]
public enum FltInstanceTeardownFlags : uint
{
    None = 0,
    FLTFL_INSTANCE_TEARDOWN_MANUAL = 0x00000001,
    FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD = 0x00000002,
    FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD = 0x00000004,
    FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT = 0x00000008,
}

/// <summary>FLT_CONTEXT_TYPE.</summary>
[Flags]
public enum FltContextType : ushort
{
    FLT_VOLUME_CONTEXT = 0x0001,
    FLT_INSTANCE_CONTEXT = 0x0002,
    FLT_FILE_CONTEXT = 0x0004,
    FLT_STREAM_CONTEXT = 0x0008,
    FLT_STREAMHANDLE_CONTEXT = 0x0010,
    FLT_TRANSACTION_CONTEXT = 0x0020,
}

/// <summary>FLT_SET_CONTEXT_OPERATION.</summary>
public enum FltSetContextOperation
{
    FLT_SET_CONTEXT_REPLACE_IF_EXISTS = 0,
    FLT_SET_CONTEXT_KEEP_IF_EXISTS = 1,
}

/// <summary>PFLT_PRE_OPERATION_CALLBACK.</summary>
public delegate FltPreopCallbackStatus FltPreOperationCallback(FltCallbackData data, FltRelatedObjects fltObjects, out object? completionContext);

/// <summary>PFLT_POST_OPERATION_CALLBACK.</summary>
public delegate FltPostopCallbackStatus FltPostOperationCallback(FltCallbackData data, FltRelatedObjects fltObjects, object? completionContext,
    FltPostOperationFlags flags);

/// <summary>PFLT_INSTANCE_SETUP_CALLBACK: STATUS_SUCCESS attaches, STATUS_FLT_DO_NOT_ATTACH (or any failure) declines the volume.</summary>
public delegate NtStatus FltInstanceSetupCallback(FltRelatedObjects fltObjects, FltInstanceSetupFlags flags, DeviceType volumeDeviceType);

/// <summary>FLT_INSTANCE_QUERY_TEARDOWN_FLAGS.</summary>
[Flags]
public enum FltInstanceQueryTeardownFlags : uint
{
    None = 0,
}

/// <summary>PFLT_INSTANCE_QUERY_TEARDOWN_CALLBACK: a manual detach (FltDetachVolume) asks; a failure status refuses it.</summary>
public delegate NtStatus FltInstanceQueryTeardownCallback(FltRelatedObjects fltObjects, FltInstanceQueryTeardownFlags flags);

/// <summary>PFLT_INSTANCE_TEARDOWN_CALLBACK (start and complete).</summary>
public delegate void FltInstanceTeardownCallback(FltRelatedObjects fltObjects, FltInstanceTeardownFlags reason);

/// <summary>PFLT_CONTEXT_CLEANUP_CALLBACK: the context is leaving its object (the stream, the handle, the instance).</summary>
public delegate void FltContextCleanupCallback(object context, FltContextType contextType);
