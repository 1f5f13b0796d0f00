using BenchmarkDotNet.Attributes;
using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Benchmarks;

/// <summary>
/// The kernel's handle lookup, in a process holding 64 event handles: the raw table read, and
/// ObReferenceObjectByHandle as every service uses it (typed, access-checked, referenced, then
/// dereferenced when the scope ends); and a handle made and closed.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class HandleLookupBenchmarks
{
    private const int Handles = 64;

    private ObjectManager _ob = null!;
    private ProcessObject _process = null!;
    private KEvent _event = null!;
    private long _handle;

    [GlobalSetup]
    public void Setup()
    {
        _ob = new ObjectManager();
        _process = _ob.Track(new ProcessObject(4242, Token.FromCredentials(1000, 1000), "bench.exe"));
        for (var i = 0; i < Handles; i++)
        {
            _event = _ob.Track(new KEvent(EventType.NotificationEvent, initialState: false));
            var status = _ob.CreateHandle(_process, _event, AccessMask.EVENT_ALL_ACCESS, HandleAttributes.None, out _handle);
            if (!status.IsSuccess) throw new InvalidOperationException($"CreateHandle: {status}");
        }
    }

    /// <summary>The table alone: index from the value, the slot under the table's lock.</summary>
    [Benchmark(Baseline = true)]
    public bool TableLookup() => _process.Handles.TryGet(_handle, out _);

    /// <summary>What NtSetEvent does first: the event by handle, for EVENT_MODIFY_STATE, from user mode.</summary>
    [Benchmark]
    public NtStatus ReferenceByHandle()
    {
        using var referenced = _ob.ReferenceByHandle<KEvent>(_process, null, _handle, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event, ProcessorMode.UserMode);
        return referenced.Status;
    }

    /// <summary>NtDuplicateObject's and NtClose's core: a new handle to the event, then closed (the freed slot is reused).</summary>
    [Benchmark]
    public NtStatus CreateAndCloseHandle()
    {
        var status = _ob.CreateHandle(_process, _event, AccessMask.EVENT_ALL_ACCESS, HandleAttributes.None, out var handle);
        return status.IsSuccess ? _ob.CloseHandle(_process, handle) : status;
    }
}
