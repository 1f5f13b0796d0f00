namespace KernelBridge.Kernel.Io;

/// <summary>FILE_SKIP_* completion notification modes (SetFileCompletionNotificationModes).</summary>
[Flags]
internal enum CompletionModes : uint
{
    None = 0,
    FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 1,
    FILE_SKIP_SET_EVENT_ON_HANDLE = 2,
    FILE_SKIP_SET_USER_EVENT_ON_FAST_IO = 4,
}

/// <summary>
/// A file object as the I/O manager keeps it: the FILE_OBJECT drivers see, plus what only the I/O
/// manager knows of the open (whether the driver accepted it, the access it granted, its
/// completion port, and the file object lock of a synchronous file).
/// </summary>
internal sealed class IoFileObject(DeviceObject device, string fileName, uint grantedAccess, uint mode) : FileObject(device, fileName)
{
    /// <summary>IRP_MJ_CREATE succeeded: the driver knows this file and must see CLEANUP and CLOSE.</summary>
    public bool Opened;

    /// <summary>The access the open granted (what NtQueryInformationFile(FileAccessInformation) reports).</summary>
    public uint GrantedAccess { get; } = grantedAccess;

    /// <summary>The CreateOptions of the open (FileModeInformation).</summary>
    public uint Mode { get; } = mode;

    public bool IsSynchronous => (Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0;

    /// <summary>The completion port the file is associated with (referenced), and its key.</summary>
    public KQueue? Port;
    public ulong Key;

    public CompletionModes Modes;

    // The file object lock of a synchronous file: its I/O runs one request at a time, in order.
    // Waiting entries are a request to start, or an action (a deferred close).
    private bool _busy;
    private readonly Queue<(IoRequest? Request, Action? Action)> _waiters = new();

    /// <summary>Takes the file lock if it is free (the common case: no allocation, no queue).</summary>
    public bool TryEnterExclusive()
    {
        lock (_waiters)
        {
            if (_busy) return false;
            _busy = true;
            return true;
        }
    }

    /// <summary>Queues a request behind the one holding the lock; if it was freed meanwhile, starts it now.</summary>
    public void EnqueueExclusive(IoRequest request)
    {
        lock (_waiters)
        {
            if (_busy)
            {
                _waiters.Enqueue((request, null));
                return;
            }
            _busy = true;
        }
        request.StartHoldingFileLock();
    }

    /// <summary>Lets the next queued request go (on a worker thread: never inside a driver's IoCompleteRequest).</summary>
    public void ReleaseExclusive()
    {
        System.Diagnostics.Debug.Assert(_busy, "only the holder of the file lock lets it go");
        (IoRequest? Request, Action? Action) next;
        lock (_waiters)
        {
            if (!_waiters.TryDequeue(out next))
            {
                _busy = false;
                return;
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(static entry =>
        {
            if (entry.Request is { } request) request.StartHoldingFileLock();
            else entry.Action!();
        }, next, preferLocal: false);
    }

    /// <summary>When the lock is busy, runs <paramref name="action"/> once it is free (and returns true); else false.</summary>
    public bool WhenIdle(Action action)
    {
        lock (_waiters)
        {
            if (!_busy) return false;
            _waiters.Enqueue((null, () =>
            {
                ReleaseExclusive();
                action();
            }));
            return true;
        }
    }
}
