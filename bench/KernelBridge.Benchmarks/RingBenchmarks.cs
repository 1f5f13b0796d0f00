using BenchmarkDotNet.Attributes;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Benchmarks;

/// <summary>
/// Ring push/pop with both sides hot in one thread (the cost of the ring itself, no cache-line
/// transfer between cores): one record at a time, a batch of 32 per doorbell and release, and
/// random sizes. Each figure is per record.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes the ring.")]
[MedianColumn]
public class RingBenchmarks
{
    private const int Batch = 32;
    private const int Capacity = 64 * 1024;

    private BenchRing _ring = null!;
    private RingWriter _writer = null!;
    private RingReader _reader = null!;
    private readonly byte[] _payload = new byte[64];
    private readonly int[] _sizes = new int[1024];
    private int _rotation;

    [Params(false, true)]
    public bool MultiProducer { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = new BenchRing(new RingOptions(Capacity, MaxPayloadLength: 1024, MultiProducer: MultiProducer));
        _writer = _ring.Writer;
        _reader = _ring.Reader;
        var random = new Random(1);
        for (var i = 0; i < _sizes.Length; i++) _sizes[i] = random.Next(8) == 0 ? random.Next(1025) : random.Next(65);
    }

    [GlobalCleanup]
    public void Cleanup() => _ring.Dispose();

    /// <summary>Write a 64-byte record, ring the doorbell, read it, release: the synchronous-call shape.</summary>
    [Benchmark(Baseline = true)]
    public int PushPopSingle()
    {
        _writer.TryWrite(1, _payload);
        _writer.Notify();
        _reader.TryRead(out var record);
        var type = record.Type;
        _reader.Release();
        return type;
    }

    /// <summary>32 records of 64 bytes, one doorbell; 32 reads, one release (io_uring style).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int PushPopBatch32()
    {
        for (var i = 0; i < Batch; i++) _writer.TryWrite(i, _payload);
        _writer.Notify();
        var sum = 0;
        for (var i = 0; i < Batch; i++)
        {
            _reader.TryRead(out var record);
            sum += record.Payload.Length;
        }
        _reader.Release();
        return sum;
    }

    /// <summary>32 records of random sizes (mostly up to 64 bytes, one in eight up to 1 KiB: wrap-arounds with padding), reserved and filled in place.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int PushPopVariableBatch32()
    {
        var sizes = _sizes;
        for (var i = 0; i < Batch; i++)
        {
            var size = sizes[(i + _rotation) & (sizes.Length - 1)];
            if (_writer.TryReserve(i, size, out var reservation) != RingStatus.Ok) break;
            reservation.Payload.Fill((byte)i);
            reservation.Commit();
        }
        _rotation += Batch;
        _writer.Notify();
        var sum = 0;
        while (_reader.TryRead(out var record) == RingStatus.Ok) sum += record.Payload.Length;
        _reader.Release();
        return sum;
    }
}
