using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Filter;

/// <summary>
/// A device control that blocks its thread until the end, in one round trip even when it pends: the
/// request goes out with a completion hook and the thread sleeps until the hook fires (rather than
/// pending, then waiting on the file in a second call). One per thread, reused.
/// </summary>
internal sealed unsafe class SynchronousControl
{
    [ThreadStatic] private static SynchronousControl? _current;

    private readonly object _lock = new();
    private readonly Action<NtStatus> _hook;
    private NtStatus _status;
    private bool _done;

    private SynchronousControl() => _hook = OnCompleted;

    public static SynchronousControl Current => _current ??= new SynchronousControl();

    private void OnCompleted(NtStatus status)
    {
        lock (_lock)
        {
            _status = status;
            _done = true;
            Monitor.Pulse(_lock);
        }
    }

    /// <summary>NtDeviceIoControlFile, waited for: the final status, the IOSB written.</summary>
    public NtStatus Call(nint file, uint code, void* input, uint inputLength, void* output, uint outputLength, IO_STATUS_BLOCK* iosb)
    {
        _done = false;
        var status = Ntdll.NtDeviceIoControlFile(null, file, 0, 0, 0, iosb, code, input, inputLength, output, outputLength, _hook);
        if (status != NtStatus.STATUS_PENDING) return status;
        // A short spin first: an answer often comes within microseconds, sooner than a sleep and a wake.
        var spin = new SpinWait();
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 5000;
        while (!Volatile.Read(ref _done) && System.Diagnostics.Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
        lock (_lock)
        {
            while (!_done) Monitor.Wait(_lock);
            return _status;
        }
    }
}
