using System.Text;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestMinifilter;

/// <summary>One of the test minifilters: its callbacks, rules and counters.</summary>
internal sealed class TestFilter(string tag)
{
    private sealed class StreamState
    {
        public int Opens;
    }

    private readonly object _lock = new();
    private readonly List<(RuleKind Kind, int Argument, string Fragment)> _rules = [];
    private int _setUp, _teardownStarts, _teardownCompletes, _streamsCreated, _streamCleanups, _handleCleanups, _maxOpens, _pre, _post, _draining;

    public string Tag { get; } = tag;
    public FltFilter? Filter { get; set; }

    /// <summary>Whether the query-teardown callback (the lower filter's only) refuses a manual detach.</summary>
    public volatile bool RefuseDetach;

    public FltRegistration Registration(string altitude)
    {
        IrpMajorFunction[] majors = [IrpMajorFunction.IRP_MJ_CREATE, IrpMajorFunction.IRP_MJ_READ, IrpMajorFunction.IRP_MJ_WRITE,
            IrpMajorFunction.IRP_MJ_CLEANUP, IrpMajorFunction.IRP_MJ_CLOSE];
        return new FltRegistration
        {
            Altitude = altitude,
            OperationRegistration = [.. majors.Select(m => new FltOperationRegistration(m, Pre, Post))],
            ContextRegistration =
            [
                new FltContextRegistration(FltContextType.FLT_STREAM_CONTEXT, (_, _) => Interlocked.Increment(ref _streamCleanups)),
                new FltContextRegistration(FltContextType.FLT_STREAMHANDLE_CONTEXT, (_, _) => Interlocked.Increment(ref _handleCleanups)),
            ],
            InstanceSetupCallback = (objects, flags, type) =>
            {
                Interlocked.Increment(ref _setUp);
                KbMinifilterDriver.Write($"{Tag} setup {objects.Volume.Name} {type} {flags}");
                return NtStatus.STATUS_SUCCESS;
            },
            InstanceQueryTeardownCallback = Tag == "U" ? null : (_, _) => RefuseDetach ? NtStatus.STATUS_FLT_DO_NOT_DETACH : NtStatus.STATUS_SUCCESS,
            InstanceTeardownStartCallback = (_, reason) =>
            {
                Interlocked.Increment(ref _teardownStarts);
                KbMinifilterDriver.Write($"{Tag} teardown-start {reason}");
            },
            InstanceTeardownCompleteCallback = (_, _) => Interlocked.Increment(ref _teardownCompletes),
        };
    }

    public void SetRule(RuleKind kind, int argument, string fragment)
    {
        lock (_lock)
        {
            if (kind == RuleKind.Clear) _rules.Clear();
            else _rules.Add((kind, argument, fragment));
        }
    }

    public KbMinifilterCounters Counters() => new(_setUp, _teardownStarts, _teardownCompletes, _streamsCreated - _streamCleanups, _streamCleanups,
        _handleCleanups, _maxOpens, _pre, _post, _draining);

    private (RuleKind Kind, int Argument)? Rule(FileObject? file, params RuleKind[] kinds)
    {
        if (file is null) return null;
        lock (_lock)
        {
            foreach (var rule in _rules)
                if (kinds.Contains(rule.Kind) && file.FileName.Contains(rule.Fragment, StringComparison.OrdinalIgnoreCase)) return (rule.Kind, rule.Argument);
        }
        return null;
    }

    private static string Name(IrpMajorFunction major) => major.ToString()["IRP_MJ_".Length..];

    private FltPreopCallbackStatus Pre(FltCallbackData data, FltRelatedObjects objects, out object? completionContext)
    {
        completionContext = null;
        Interlocked.Increment(ref _pre);
        var major = data.Iopb.MajorFunction;
        var file = data.Iopb.TargetFileObject;
        KbMinifilterDriver.Write($"{Tag} pre {Name(major)} {file?.FileName} pid={Flt.GetRequestorProcessId(data)}");
        if (major == IrpMajorFunction.IRP_MJ_READ && Rule(file, RuleKind.ThrowInPreRead) is not null)
            throw new InvalidOperationException("the test minifilter's pre-read fails on purpose");
        if ((major == IrpMajorFunction.IRP_MJ_CREATE && Rule(file, RuleKind.DenyInPreCreate) is not null)
            || (major == IrpMajorFunction.IRP_MJ_WRITE && Rule(file, RuleKind.DenyWrite) is not null))
        {
            data.IoStatus.Status = NtStatus.STATUS_ACCESS_DENIED;
            data.IoStatus.Information = 0;
            return FltPreopCallbackStatus.FLT_PREOP_COMPLETE;
        }
        if (Rule(file, RuleKind.PendPre) is { } pend)
        {
            KbMinifilterDriver.Later(pend.Argument, () =>
            {
                KbMinifilterDriver.Write($"{Tag} resume-pre {Name(major)} {file?.FileName}");
                Flt.CompletePendedPreOperation(data, FltPreopCallbackStatus.FLT_PREOP_SUCCESS_WITH_CALLBACK, "pended");
            });
            return FltPreopCallbackStatus.FLT_PREOP_PENDING;
        }
        completionContext = "direct";
        return FltPreopCallbackStatus.FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }

    private FltPostopCallbackStatus Post(FltCallbackData data, FltRelatedObjects objects, object? completionContext, FltPostOperationFlags flags)
    {
        Interlocked.Increment(ref _post);
        if ((flags & FltPostOperationFlags.FLTFL_POST_OPERATION_DRAINING) != 0) Interlocked.Increment(ref _draining);
        var major = data.Iopb.MajorFunction;
        var file = data.Iopb.TargetFileObject;
        KbMinifilterDriver.Write($"{Tag} post {Name(major)} {file?.FileName} {data.IoStatus.Status} {completionContext}");
        if (major != IrpMajorFunction.IRP_MJ_CREATE || !data.IoStatus.Status.IsSuccess || file is null) return FltPostopCallbackStatus.FLT_POSTOP_FINISHED_PROCESSING;

        if (Rule(file, RuleKind.DenyInPostCreate) is not null)
        {
            Flt.CancelFileOpen(objects.Instance, file);
            data.IoStatus.Status = NtStatus.STATUS_ACCESS_DENIED;
            data.IoStatus.Information = 0;
            return FltPostopCallbackStatus.FLT_POSTOP_FINISHED_PROCESSING;
        }
        TrackStream(objects.Instance, file);
        if (Rule(file, RuleKind.ReadInPostCreate) is { } read)
        {
            var buffer = new byte[read.Argument];
            var status = Flt.ReadFile(objects.Instance, file, 0, buffer, out var bytesRead);
            KbMinifilterDriver.Write($"{Tag} read {file.FileName} {status} {Encoding.UTF8.GetString(buffer, 0, bytesRead)}");
        }
        if (Rule(file, RuleKind.PendPostCreate) is { } pend)
        {
            KbMinifilterDriver.Later(pend.Argument, () =>
            {
                KbMinifilterDriver.Write($"{Tag} resume-post CREATE {file.FileName}");
                Flt.CompletePendedPostOperation(data);
            });
            return FltPostopCallbackStatus.FLT_POSTOP_MORE_PROCESSING_REQUIRED;
        }
        return FltPostopCallbackStatus.FLT_POSTOP_FINISHED_PROCESSING;
    }

    /// <summary>The stream context counts the stream's opens (shared by every open of the file); each open gets a handle context.</summary>
    private void TrackStream(FltInstance instance, FileObject file)
    {
        var fresh = new StreamState();
        var status = Flt.SetStreamContext(instance, file, FltSetContextOperation.FLT_SET_CONTEXT_KEEP_IF_EXISTS, fresh, out var existing);
        StreamState state;
        if (status.IsSuccess)
        {
            Interlocked.Increment(ref _streamsCreated);
            state = fresh;
        }
        else if (status == NtStatus.STATUS_FLT_CONTEXT_ALREADY_DEFINED) state = (StreamState)existing!;
        else
        {
            KbMinifilterDriver.Write($"{Tag} stream-context {status}");
            return;
        }
        var opens = Interlocked.Increment(ref state.Opens);
        int max;
        while (opens > (max = Volatile.Read(ref _maxOpens)) && Interlocked.CompareExchange(ref _maxOpens, opens, max) != max)
        {
        }
        Flt.SetStreamHandleContext(instance, file, FltSetContextOperation.FLT_SET_CONTEXT_REPLACE_IF_EXISTS, new object(), out _);
    }
}
