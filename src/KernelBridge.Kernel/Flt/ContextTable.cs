namespace KernelBridge.Kernel.Flt;

/// <summary>A context that left its object; its filter's cleanup callback is due (called outside any lock).</summary>
internal readonly record struct ReleasedContext(FilterInstance Instance, object Context, FltContextType Type)
{
    public void RunCleanup()
    {
        if (Instance.Registered.CleanupFor(Type) is not { } cleanup) return;
        try
        {
            cleanup(Context, Type);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Instance.Frame.ReportFault(Instance, e, "exception in a context cleanup callback");
        }
    }
}

/// <summary>
/// The stream and stream-handle contexts of one volume. A stream is the file system's FsContext
/// (one per file, shared by its opens); its contexts live until the last open of it closes. A
/// stream-handle context lives until its file object closes.
/// </summary>
internal sealed class ContextTable
{
    private sealed class StreamRecord
    {
        public int Opens;
        public readonly List<(FilterInstance Instance, object Context)> Contexts = [];
    }

    private readonly object _lock = new();
    private readonly Dictionary<object, StreamRecord> _streams = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FileObject, List<(FilterInstance Instance, object Context)>> _handles = new(ReferenceEqualityComparer.Instance);

    public int StreamCount
    {
        get
        {
            lock (_lock) return _streams.Count;
        }
    }

    public NtStatus Get(FilterInstance instance, FileObject file, FltContextType type, out object? context)
    {
        context = null;
        lock (_lock)
        {
            var list = ListFor(file, type, create: false, out var status);
            if (list is null) return status;
            var index = list.FindIndex(entry => ReferenceEquals(entry.Instance, instance));
            if (index < 0) return NtStatus.STATUS_NOT_FOUND;
            context = list[index].Context;
            return NtStatus.STATUS_SUCCESS;
        }
    }

    public NtStatus Set(FilterInstance instance, FileObject file, FltContextType type, FltSetContextOperation operation, object newContext,
        out object? oldContext, out ReleasedContext? replaced)
    {
        oldContext = null;
        replaced = null;
        if (instance.TearingDown) return NtStatus.STATUS_FLT_DELETING_OBJECT;
        lock (_lock)
        {
            var list = ListFor(file, type, create: true, out var status);
            if (list is null) return status;
            var index = list.FindIndex(entry => ReferenceEquals(entry.Instance, instance));
            if (index < 0)
            {
                list.Add((instance, newContext));
                return NtStatus.STATUS_SUCCESS;
            }
            oldContext = list[index].Context;
            if (operation == FltSetContextOperation.FLT_SET_CONTEXT_KEEP_IF_EXISTS) return NtStatus.STATUS_FLT_CONTEXT_ALREADY_DEFINED;
            if (!ReferenceEquals(oldContext, newContext)) replaced = new ReleasedContext(instance, oldContext, type);
            list[index] = (instance, newContext);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    public NtStatus Delete(FilterInstance instance, FileObject file, FltContextType type, out object? oldContext, out ReleasedContext? released)
    {
        oldContext = null;
        released = null;
        lock (_lock)
        {
            var list = ListFor(file, type, create: false, out var status);
            if (list is null) return status;
            var index = list.FindIndex(entry => ReferenceEquals(entry.Instance, instance));
            if (index < 0) return NtStatus.STATUS_NOT_FOUND;
            oldContext = list[index].Context;
            list.RemoveAt(index);
            released = new ReleasedContext(instance, oldContext, type);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>A create succeeded through the frame: one more open of its stream.</summary>
    public void Opened(FileObject file)
    {
        if (file.FsContext is not { } stream) return;
        lock (_lock)
        {
            if (!_streams.TryGetValue(stream, out var record)) _streams[stream] = record = new StreamRecord();
            record.Opens++;
        }
    }

    /// <summary>A file object closed: its handle contexts go, and its stream's too if that was the last open.</summary>
    public void Closed(FileObject file, List<ReleasedContext> released)
    {
        lock (_lock)
        {
            if (_handles.Remove(file, out var handleContexts))
                foreach (var (instance, context) in handleContexts) released.Add(new ReleasedContext(instance, context, FltContextType.FLT_STREAMHANDLE_CONTEXT));
            if (file.FsContext is not { } stream || !_streams.TryGetValue(stream, out var record)) return;
            if (--record.Opens > 0) return;
            _streams.Remove(stream);
            foreach (var (instance, context) in record.Contexts) released.Add(new ReleasedContext(instance, context, FltContextType.FLT_STREAM_CONTEXT));
        }
    }

    /// <summary>Every context an instance set, removed (the instance is being torn down).</summary>
    public void RemoveInstance(FilterInstance instance, List<ReleasedContext> released)
    {
        lock (_lock)
        {
            foreach (var record in _streams.Values) Take(record.Contexts, instance, FltContextType.FLT_STREAM_CONTEXT, released);
            foreach (var list in _handles.Values) Take(list, instance, FltContextType.FLT_STREAMHANDLE_CONTEXT, released);
        }
    }

    private static void Take(List<(FilterInstance Instance, object Context)> list, FilterInstance instance, FltContextType type, List<ReleasedContext> released)
    {
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (!ReferenceEquals(list[i].Instance, instance)) continue;
            released.Add(new ReleasedContext(instance, list[i].Context, type));
            list.RemoveAt(i);
        }
    }

    private List<(FilterInstance Instance, object Context)>? ListFor(FileObject file, FltContextType type, bool create, out NtStatus status)
    {
        status = NtStatus.STATUS_NOT_FOUND;
        if (type == FltContextType.FLT_STREAMHANDLE_CONTEXT)
        {
            if (_handles.TryGetValue(file, out var handles)) return handles;
            if (!create) return null;
            return _handles[file] = [];
        }
        if (type != FltContextType.FLT_STREAM_CONTEXT)
        {
            status = NtStatus.STATUS_INVALID_PARAMETER;
            return null;
        }
        // A file system that keeps no per-stream FsContext cannot hold stream contexts.
        if (file.FsContext is not { } stream)
        {
            status = NtStatus.STATUS_NOT_SUPPORTED;
            return null;
        }
        if (_streams.TryGetValue(stream, out var record)) return record.Contexts;
        if (!create) return null;
        _streams[stream] = record = new StreamRecord();
        return record.Contexts;
    }
}
