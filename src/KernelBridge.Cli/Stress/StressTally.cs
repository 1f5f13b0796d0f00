using System.Collections.Concurrent;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// A worker's running counts, per operation: done, failed, and (for the port) found busy. Threads
/// add with interlocked increments; the reporter reads them. The first errors are kept with their reasons.
/// </summary>
internal sealed class StressTally
{
    public const int KeptErrors = 20;
    private readonly long[] _done = new long[StressMix.Count];
    private readonly long[] _errors = new long[StressMix.Count];
    private readonly long[] _busy = new long[StressMix.Count];
    private readonly ConcurrentQueue<string> _reasons = new();

    public void Done(StressOperation operation, string? error)
    {
        Interlocked.Increment(ref _done[(int)operation]);
        if (error is null) return;
        Interlocked.Increment(ref _errors[(int)operation]);
        if (_reasons.Count < KeptErrors) _reasons.Enqueue($"{operation}: {error}");
    }

    public void Busy(StressOperation operation) => Interlocked.Increment(ref _busy[(int)operation]);

    public long Operations => Sum(_done);
    public long Errors => Sum(_errors);

    public long DoneOf(StressOperation operation) => Interlocked.Read(ref _done[(int)operation]);
    public long ErrorsOf(StressOperation operation) => Interlocked.Read(ref _errors[(int)operation]);
    public long BusyOf(StressOperation operation) => Interlocked.Read(ref _busy[(int)operation]);

    public IEnumerable<string> Reasons => _reasons;

    private static long Sum(long[] counts)
    {
        long sum = 0;
        for (var i = 0; i < counts.Length; i++) sum += Interlocked.Read(ref counts[i]);
        return sum;
    }
}
