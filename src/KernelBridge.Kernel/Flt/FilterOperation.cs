using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Flt;

/// <summary>
/// One IRP on its way through a volume's instances: the pre-operation callbacks from the highest
/// altitude down, the file system, then the post-operation callbacks back up — any of which may
/// pend it (FLT_PREOP_PENDING, FLT_POSTOP_MORE_PROCESSING_REQUIRED) and resume it later from
/// another thread.
/// </summary>
internal sealed class FilterOperation : FltCallbackData
{
    private readonly FilterManager _manager;
    private readonly VolumeFrame _frame;
    private readonly FilterInstance[] _instances;
    private readonly (FilterInstance Instance, object? Context)[] _posts;
    private readonly ProcessObject? _process;
    private readonly ThreadObject? _thread;
    private int _next;
    private int _postCount;
    // Pre-callback pending: the callback's FLT_PREOP_PENDING and FltCompletePendedPreOperation may come in either order; the second continues.
    private int _pendGate;
    private FltPreopCallbackStatus _resumedStatus;
    private object? _resumedContext;
    // Post-callback pending: FLT_POSTOP_MORE_PROCESSING_REQUIRED and FltCompletePendedPostOperation, likewise.
    private int _postGate;
    private bool _wentAsynchronous;
    private bool _finished;

    public FilterOperation(FilterManager manager, VolumeFrame frame, Irp irp, IoStackLocation stack, FilterInstance[] instances, int start)
        : base(irp, stack, CurrentContext.Process, CurrentContext.Process?.ProcessId ?? 0)
    {
        _manager = manager;
        _frame = frame;
        _instances = instances;
        _posts = new (FilterInstance, object?)[instances.Length];
        _next = start;
        _process = CurrentContext.Process;
        _thread = CurrentContext.Thread;
    }

    /// <summary>From the frame's dispatch routine: what it returns to whoever called the frame's device.</summary>
    public NtStatus Dispatch()
    {
        var status = Continue();
        if (Volatile.Read(ref _wentAsynchronous)) return NtStatus.STATUS_PENDING;
        return _finished ? IoStatus.Status : status;
    }

    /// <summary>FltCompletePendedPreOperation.</summary>
    public void ResumePre(FltPreopCallbackStatus status, object? context)
    {
        _resumedStatus = status;
        _resumedContext = context;
        if (Interlocked.Increment(ref _pendGate) == 1) return; // the callback has not returned yet: its thread continues
        using var kernel = KernelRuntime.Enter(_manager.Runtime);
        using var scope = CurrentContext.Enter(_process, _thread);
        if (AfterPre(_instances[_next - 1], status, context)) CompleteHere();
        else Continue();
    }

    /// <summary>FltCompletePendedPostOperation: the rest of the post-callbacks, then the completion goes on up.</summary>
    public void ResumePost()
    {
        if (Interlocked.Increment(ref _postGate) == 1) return; // the callback has not returned yet: its thread goes on
        Volatile.Write(ref _postGate, 0);
        using var kernel = KernelRuntime.Enter(_manager.Runtime);
        using var scope = CurrentContext.Enter(_process, _thread);
        if (RunPosts()) _manager.Io.CompleteRequest(Irp, 0);
    }

    /// <summary>Pre-callbacks from <see cref="_next"/> down; then the file system, or the completion a callback chose.</summary>
    private NtStatus Continue()
    {
        while (_next < _instances.Length)
        {
            var instance = _instances[_next++];
            if (!instance.Registered.Callable || instance.TearingDown) continue;
            if (instance.Registered.Operation(Iopb.MajorFunction) is not { } registration) continue;
            if (registration.PreOperation is not { } pre)
            {
                if (registration.PostOperation is not null) _posts[_postCount++] = (instance, null);
                continue;
            }
            Iopb.TargetInstance = instance;
            FltPreopCallbackStatus result;
            object? context;
            try
            {
                result = pre(this, instance.Related(Iopb.TargetFileObject), out context);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _manager.ReportFault(instance.Registered, Irp, e, $"exception in the {Iopb.MajorFunction} pre-operation callback");
                if (IsHousekeeping) continue;
                IoStatus.Status = NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
                IoStatus.Information = 0;
                return CompleteHere();
            }
            if (result == FltPreopCallbackStatus.FLT_PREOP_PENDING)
            {
                Volatile.Write(ref _wentAsynchronous, true);
                Ddk.Io.MarkIrpPending(Irp);
                if (Interlocked.Increment(ref _pendGate) == 1) return NtStatus.STATUS_PENDING;
                // FltCompletePendedPreOperation came first: go on here with what it said.
                Volatile.Write(ref _pendGate, 0);
                result = _resumedStatus;
                context = _resumedContext;
            }
            if (AfterPre(instance, result, context)) return CompleteHere();
        }
        return PassDown();
    }

    /// <summary>Acts on one pre-callback's answer; true when the filter completed the operation.</summary>
    private bool AfterPre(FilterInstance instance, FltPreopCallbackStatus result, object? context)
    {
        Volatile.Write(ref _pendGate, 0);
        switch (result)
        {
            case FltPreopCallbackStatus.FLT_PREOP_SUCCESS_WITH_CALLBACK or FltPreopCallbackStatus.FLT_PREOP_SYNCHRONIZE:
                if (instance.Registered.Operation(Iopb.MajorFunction)?.PostOperation is not null) _posts[_postCount++] = (instance, context);
                return false;
            case FltPreopCallbackStatus.FLT_PREOP_COMPLETE when !IsHousekeeping:
                return true;
            case FltPreopCallbackStatus.FLT_PREOP_COMPLETE:
                // CLEANUP and CLOSE cannot be failed: the file system must see them, or it leaks the open.
                _manager.ReportMisuse(instance.Registered, $"FLT_PREOP_COMPLETE for {Iopb.MajorFunction}, which must reach the file system; passed on");
                return false;
            default:
                return false;
        }
    }

    private bool IsHousekeeping => Iopb.MajorFunction is IrpMajorFunction.IRP_MJ_CLEANUP or IrpMajorFunction.IRP_MJ_CLOSE;

    /// <summary>A filter completed the operation in its pre-callback: the post-callbacks of the instances above it, then up.</summary>
    private NtStatus CompleteHere()
    {
        var status = IoStatus.Status;
        if (RunPosts()) _manager.Io.CompleteRequest(Irp, 0);
        return status;
    }

    private NtStatus PassDown()
    {
        var stack = Ddk.Io.GetCurrentIrpStackLocation(Irp);
        if ((Flags & FltCallbackDataFlags.FLTFL_CALLBACK_DATA_DIRTY) != 0) stack.Parameters = Iopb.Parameters;
        Ddk.Io.CopyCurrentIrpStackLocationToNext(Irp);
        Ddk.Io.SetCompletionRoutine(Irp, OnLowerCompleted, this, true, true, true);
        return _manager.Io.CallDriver(_frame.Lower, Irp);
    }

    private static NtStatus OnLowerCompleted(DeviceObject? device, Irp irp, object? context)
    {
        var operation = (FilterOperation)context!;
        if (irp.PendingReturned) Ddk.Io.MarkIrpPending(irp);
        operation.IoStatus = irp.IoStatus;
        return operation.RunPosts() ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_MORE_PROCESSING_REQUIRED;
    }

    /// <summary>The post-callbacks still due, lowest instance first; false when one holds the completion.</summary>
    private bool RunPosts()
    {
        while (_postCount > 0)
        {
            var (instance, context) = _posts[--_postCount];
            _posts[_postCount] = default;
            if (instance.Registered.Operation(Iopb.MajorFunction)?.PostOperation is not { } post || !instance.Registered.Callable) continue;
            Iopb.TargetInstance = instance;
            var draining = instance.TearingDown ? FltPostOperationFlags.FLTFL_POST_OPERATION_DRAINING : FltPostOperationFlags.None;
            FltPostopCallbackStatus result;
            try
            {
                result = post(this, instance.Related(Iopb.TargetFileObject), context, draining);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _manager.ReportFault(instance.Registered, Irp, e, $"exception in the {Iopb.MajorFunction} post-operation callback");
                continue;
            }
            if (result == FltPostopCallbackStatus.FLT_POSTOP_MORE_PROCESSING_REQUIRED && draining == FltPostOperationFlags.None)
            {
                Volatile.Write(ref _wentAsynchronous, true);
                Ddk.Io.MarkIrpPending(Irp);
                if (Interlocked.Increment(ref _postGate) == 1) return false;
                // FltCompletePendedPostOperation came first: go on here.
                Volatile.Write(ref _postGate, 0);
            }
        }
        Finish();
        return true;
    }

    /// <summary>The final status goes to the IRP; a successful create counts as an open of its stream, a close ends one.</summary>
    private void Finish()
    {
        Irp.IoStatus = IoStatus;
        _finished = true;
        if (Iopb.TargetFileObject is not { } file) return;
        if (Iopb.MajorFunction == IrpMajorFunction.IRP_MJ_CREATE && IoStatus.Status.IsSuccess) _frame.Contexts.Opened(file);
        else if (Iopb.MajorFunction == IrpMajorFunction.IRP_MJ_CLOSE) _manager.Closed(_frame, file);
    }
}
