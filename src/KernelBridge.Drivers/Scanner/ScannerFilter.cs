using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Scanner;

/// <summary>
/// The scanner's callbacks. Each scan is a message to the service without blocking a thread: the
/// callback pends the operation (FLT_POSTOP_MORE_PROCESSING_REQUIRED after a create,
/// FLT_PREOP_PENDING before a write) and resumes it when the verdict arrives.
/// </summary>
internal sealed class ScannerFilter(ScannerState state)
{
    /// <summary>The stream-handle context of an open made for writing: scan again when it is closed.</summary>
    private sealed class RescanOnClose;

    public FltRegistration Registration() => new()
    {
        Altitude = ScannerInterface.Altitude,
        OperationRegistration =
        [
            new FltOperationRegistration(IrpMajorFunction.IRP_MJ_CREATE, null, PostCreate),
            new FltOperationRegistration(IrpMajorFunction.IRP_MJ_WRITE, PreWrite, null),
            new FltOperationRegistration(IrpMajorFunction.IRP_MJ_CLEANUP, PreCleanup, null),
        ],
        ContextRegistration = [new FltContextRegistration(FltContextType.FLT_STREAMHANDLE_CONTEXT, null)],
    };

    private bool Skip(FltCallbackData data, FileObject? file) =>
        file is null || state.IsScanner(Flt.GetRequestorProcess(data)) || !state.ShouldScan(file.FileName);

    private FltPostopCallbackStatus PostCreate(FltCallbackData data, FltRelatedObjects objects, object? context, FltPostOperationFlags flags)
    {
        var file = data.Iopb.TargetFileObject;
        if (!data.IoStatus.Status.IsSuccess || (flags & FltPostOperationFlags.FLTFL_POST_OPERATION_DRAINING) != 0 || Skip(data, file))
            return FltPostopCallbackStatus.FLT_POSTOP_FINISHED_PROCESSING;
        var content = ReadContent(objects.Instance, file!, out var size);
        var scan = state.ScanAsync(ScanReason.Open, content, size);
        if (scan.IsCompleted)
        {
            AfterOpenScan(data, objects, file!, scan.Result);
            return FltPostopCallbackStatus.FLT_POSTOP_FINISHED_PROCESSING;
        }
        _ = FinishOpenAsync(scan, data, objects, file!);
        return FltPostopCallbackStatus.FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    }

    private async Task FinishOpenAsync(ValueTask<bool> scan, FltCallbackData data, FltRelatedObjects objects, FileObject file)
    {
        var safe = await scan.ConfigureAwait(false);
        AfterOpenScan(data, objects, file, safe);
        Flt.CompletePendedPostOperation(data);
    }

    /// <summary>An infected file is not opened (the file system forgets the open); a clean one opened for writing is scanned again at close.</summary>
    private void AfterOpenScan(FltCallbackData data, FltRelatedObjects objects, FileObject file, bool safe)
    {
        if (!safe)
        {
            Flt.CancelFileOpen(objects.Instance, file);
            data.IoStatus.Status = NtStatus.STATUS_ACCESS_DENIED;
            data.IoStatus.Information = 0;
            state.OpenDenied();
            return;
        }
        if (file.WriteAccess)
            Flt.SetStreamHandleContext(objects.Instance, file, FltSetContextOperation.FLT_SET_CONTEXT_KEEP_IF_EXISTS, new RescanOnClose(), out _);
    }

    private FltPreopCallbackStatus PreWrite(FltCallbackData data, FltRelatedObjects objects, out object? completionContext)
    {
        completionContext = null;
        var file = data.Iopb.TargetFileObject;
        var length = Math.Min(data.Iopb.Parameters.Write.Length, data.Buffer.Length);
        if (length <= 0 || Skip(data, file)) return FltPreopCallbackStatus.FLT_PREOP_SUCCESS_NO_CALLBACK;
        var content = data.Buffer[..Math.Min(length, ScannerInterface.ReadBufferSize)].ToArray();
        var scan = state.ScanAsync(ScanReason.Write, content, length);
        if (scan.IsCompleted) return AfterWriteScan(data, scan.Result);
        _ = FinishWriteAsync(scan, data);
        return FltPreopCallbackStatus.FLT_PREOP_PENDING;
    }

    private async Task FinishWriteAsync(ValueTask<bool> scan, FltCallbackData data)
    {
        var safe = await scan.ConfigureAwait(false);
        Flt.CompletePendedPreOperation(data, AfterWriteScan(data, safe), null);
    }

    private FltPreopCallbackStatus AfterWriteScan(FltCallbackData data, bool safe)
    {
        if (safe) return FltPreopCallbackStatus.FLT_PREOP_SUCCESS_NO_CALLBACK;
        state.WriteDenied();
        data.IoStatus.Status = NtStatus.STATUS_ACCESS_DENIED;
        data.IoStatus.Information = 0;
        return FltPreopCallbackStatus.FLT_PREOP_COMPLETE;
    }

    /// <summary>A file written through this open is scanned once more as it is closed; the verdict is for the service to act on.</summary>
    private FltPreopCallbackStatus PreCleanup(FltCallbackData data, FltRelatedObjects objects, out object? completionContext)
    {
        completionContext = null;
        var file = data.Iopb.TargetFileObject;
        if (file is null || !Flt.GetStreamHandleContext(objects.Instance, file, out _).IsSuccess) return FltPreopCallbackStatus.FLT_PREOP_SUCCESS_NO_CALLBACK;
        var content = ReadContent(objects.Instance, file, out var size);
        state.CloseScanned();
        _ = state.ScanAsync(ScanReason.CloseAfterWrite, content, size).AsTask();
        return FltPreopCallbackStatus.FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    /// <summary>The start of the file, read below the scanner (FltReadFile); an empty or unreadable file has no content to scan.</summary>
    private static byte[] ReadContent(FltInstance instance, FileObject file, out long size)
    {
        var buffer = new byte[ScannerInterface.ReadBufferSize];
        var status = Flt.ReadFile(instance, file, 0, buffer, out var read);
        size = read;
        return status.IsSuccess ? buffer[..read] : [];
    }
}
