using BenchmarkDotNet.Attributes;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Benchmarks;

/// <summary>
/// Ring push/pop with the consumer on another thread (another core, both polling): the cost the
/// gate sees when both sides are hot, cache-line transfers included. Each invocation pushes, then
/// waits until the consumer has released everything; figures are per record.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes the ring.")]
[MedianColumn]
public unsafe class RingCrossThreadBenchmarks
{
    private const int Batch = 32;
    private const int Capacity = 64 * 1024;

    private BenchRing _ring = null!;
    private RingWriter _writer = null!;
    private RingReader _reader = null!;
    private Thread _consumer = null!;
    private volatile bool _stop;
    private readonly byte[] _payload = new byte[64];

    [GlobalSetup]
    public void Setup()
    {
        _ring = new BenchRing(new RingOptions(Capacity));
        _writer = _ring.Writer;
        _reader = _ring.Reader;
        _consumer = new Thread(Consume) { IsBackground = true, Name = "ring consumer" };
        _consumer.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _consumer.Join();
        _ring.Dispose();
    }

    /// <summary>One 64-byte record, then wait until the consumer has read and released it: a one-way trip and back.</summary>
    [Benchmark(Baseline = true)]
    public long OneRecordAcrossCores()
    {
        _writer.TryWrite(1, _payload);
        _writer.Notify();
        return WaitUntilReleased();
    }

    /// <summary>32 records of 64 bytes per doorbell; the consumer releases as it goes.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public long Batch32AcrossCores()
    {
        for (var i = 0; i < Batch; i++) _writer.TryWrite(i, _payload);
        _writer.Notify();
        return WaitUntilReleased();
    }

    private long WaitUntilReleased()
    {
        var tail = Volatile.Read(ref _ring.Header->Tail);
        long head;
        for (var spins = 0L; (head = Volatile.Read(ref _ring.Header->Head)) != tail; spins++)
        {
            // Bounded: a consumer that stopped (a broken ring) ends the run instead of hanging it.
            if ((spins & 0xFFFFF) == 0xFFFFF && !_consumer.IsAlive) throw new InvalidOperationException("the consumer thread stopped");
            Thread.SpinWait(1);
        }
        return head;
    }

    // Polls without sleeping: both sides hot, as the gate's spin phase is.
    private void Consume()
    {
        while (!_stop)
        {
            var read = 0;
            RingStatus status;
            while ((status = _reader.TryRead(out _)) == RingStatus.Ok) read++;
            if (status == RingStatus.Corrupt) return;
            if (read > 0) _reader.Release();
            else Thread.SpinWait(1);
        }
    }
}
