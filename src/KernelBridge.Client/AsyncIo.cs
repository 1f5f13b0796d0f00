using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using KernelBridge.Abi;
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
    private string _operation = "";

    public IO_STATUS_BLOCK* IoStatusBlock { get; } = (IO_STATUS_BLOCK*)NativeMemory.AllocZeroed((nuint)sizeof(IO_STATUS_BLOCK));

    /// <summary>The hook the gate's reader thread calls when the pended request completes.</summary>
    public Action<NtStatus> Completed { get; }

    private AsyncIo() => Completed = OnCompleted;

    public static AsyncIo Rent(ReadOnlyMemory<byte> input, Memory<byte> output, string operation)
    {
        if (!Pool.TryTake(out var io)) io = new AsyncIo();
        io._core.Reset();
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

    /// <summary>Cancellation of the token becomes CancelIoEx on this request.</summary>
    public void CancelWith(nint file, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        var iosb = (nint)IoStatusBlock;
        _cancellation = cancellationToken.UnsafeRegister(_ =>
        {
            IO_STATUS_BLOCK result;
            Ntdll.NtCancelIoFileEx(file, (IO_STATUS_BLOCK*)iosb, &result);
        }, null);
    }

    /// <summary>The request did not pend: its result is known now.</summary>
    public ValueTask<IoResult> CompletedNow(NtStatus status)
    {
        var information = (int)IoStatusBlock->Information;
        Return();
        if (status.IsError) return ValueTask.FromException<IoResult>(new NtStatusException(status, _operation));
        return ValueTask.FromResult(new IoResult(status, information));
    }

    private void OnCompleted(NtStatus status)
    {
        _cancellation.Dispose();
        _cancellation = default;
        _input.Dispose();
        _output.Dispose();
        if (status.IsError) _core.SetException(new NtStatusException(status, _operation));
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
