using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>
/// One overlapped request awaited from .NET: its IOSB in native memory, its buffers pinned until
/// the end, completed by the gate's reader thread when the kernel's completion arrives (no thread
/// waits per request). Pooled: a steady stream of requests allocates nothing.
/// </summary>
internal sealed unsafe class AsyncIo : IValueTaskSource<IoResult>
{
    private static readonly ConcurrentBag<AsyncIo> Pool = [];

    private ManualResetValueTaskSourceCore<IoResult> _core = new() { RunContinuationsAsynchronously = true };
    private MemoryHandle _input;
    private MemoryHandle _output;
    private CancellationTokenRegistration _cancellation;
    private IoOperation _operation;
    private volatile bool _completed;
    private int _use;
    private GateClient? _gate;
    private nint _file;

    public IO_STATUS_BLOCK* IoStatusBlock { get; } = (IO_STATUS_BLOCK*)NativeMemory.AllocZeroed((nuint)sizeof(IO_STATUS_BLOCK));

    /// <summary>The hook the gate's reader thread calls when the pended request completes.</summary>
    public Action<NtStatus> Completed { get; }

    private AsyncIo() => Completed = OnCompleted;

    public static AsyncIo Rent(GateClient gate, ReadOnlyMemory<byte> input, Memory<byte> output, IoOperation operation)
    {
        if (!Pool.TryTake(out var io)) io = new AsyncIo();
        io._core.Reset();
        io._core.RunContinuationsAsynchronously = !gate.InlineCompletions;
        io._completed = false;
        io._cancellation = default;
        Interlocked.Increment(ref io._use);
        io._input = input.Pin();
        io._output = output.Pin();
        io._operation = operation;
        io.IoStatusBlock->Status = NtStatus.STATUS_PENDING.Value;
        io.IoStatusBlock->Information = 0;
        return io;
    }

    public void* InputPointer => _input.Pointer;
    public void* OutputPointer => _output.Pointer;
    public short Version => _core.Version;

    /// <summary>
    /// Cancellation of the token becomes CancelIoEx on this request, on the file's own connection.
    /// Registered before the request is issued; a callback from an earlier use of this pooled
    /// object finds the use changed and does nothing.
    /// </summary>
    public void CancelWith(GateClient gate, nint file, CancellationToken cancellationToken)
    {
        _gate = gate;
        _file = file;
        if (!cancellationToken.CanBeCanceled) return;
        var use = Volatile.Read(ref _use);
        _cancellation = cancellationToken.UnsafeRegister(static (state, _) =>
        {
            var (io, use) = ((AsyncIo, int))state!;
            if (Volatile.Read(ref io._use) == use) io.CancelNow();
        }, (this, use));
    }

    /// <summary>CancelIoEx on this request, unless it has completed.</summary>
    public void CancelNow()
    {
        if (_completed || _gate is null) return;
        IO_STATUS_BLOCK result;
        Ntdll.NtCancelIoFileEx(_gate, _file, IoStatusBlock, &result);
    }

    /// <summary>After issuing: the request pended (the task completes later), or its result is known now.</summary>
    public ValueTask<IoResult> Issued(NtStatus status, CancellationToken cancellationToken)
    {
        if (status != NtStatus.STATUS_PENDING) return CompletedNow(status);
        // A cancel that came before the kernel knew the request found nothing: say it again.
        if (cancellationToken.IsCancellationRequested) CancelNow();
        return new ValueTask<IoResult>(this, Version);
    }

    /// <summary>The request did not pend: its result is known now.</summary>
    public ValueTask<IoResult> CompletedNow(NtStatus status)
    {
        var information = (int)IoStatusBlock->Information;
        var operation = _operation;
        Return();
        if (status.IsError) return ValueTask.FromException<IoResult>(operation.Failure(status));
        return ValueTask.FromResult(new IoResult(status, information));
    }

    private void OnCompleted(NtStatus status)
    {
        // On the gate's reader thread: the registration is disposed in GetResult (disposing waits for a
        // running cancel callback, which itself needs the reader thread).
        _completed = true;
        _input.Dispose();
        _output.Dispose();
        if (status == NtStatus.STATUS_END_OF_FILE && _operation.IsRead) status = NtStatus.STATUS_SUCCESS;
        if (status.IsError) _core.SetException(_operation.Failure(status));
        else _core.SetResult(new IoResult(status, (int)IoStatusBlock->Information));
    }

    public IoResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _cancellation.Dispose();
            _cancellation = default;
            Pool.Add(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Return()
    {
        _cancellation.Dispose();
        _cancellation = default;
        _input.Dispose();
        _output.Dispose();
        Pool.Add(this);
    }
}
