using System.Diagnostics;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Drivers.Echo;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// Asynchronous IOCTLs with 32 in flight on one overlapped handle to Echo: 32 loops, each awaiting
/// <see cref="DeviceFile.IoControlAsync(uint, ReadOnlyMemory{byte}, Memory{byte}, CancellationToken)"/>
/// and issuing the next as soon as one completes, counted over the run, on the bench's connection:
/// the shared-memory gate (checked). The thread pool is still given a thread per loop, so that a
/// gate that holds the issuing thread for the round trip (the socket gate's way) is not starved either.
/// </summary>
internal static class AsyncIoctlMeasurement
{
    public const int InFlight = 32;

    public static BenchResult Measure(BenchContext context)
    {
        BenchGate.Require(context.Gate, GateFeatures.SharedMemory);
        return KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () => Run(context));
    }

    /// <summary>The same with inline completions (KERNELBRIDGE_INLINE_COMPLETIONS=1): each continuation runs on the thread that read its result.</summary>
    public static BenchResult MeasureInline(BenchContext context)
    {
        var before = context.Gate.InlineCompletions;
        context.Gate.InlineCompletions = true;
        try
        {
            return Measure(context);
        }
        finally
        {
            context.Gate.InlineCompletions = before;
        }
    }

    private static BenchResult Run(BenchContext context)
    {
        using var echo = DeviceFile.OpenOverlapped(EchoInterface.Win32Name, gate: context.Gate);
        ThreadPool.GetMinThreads(out var workers, out var completionThreads);
        ThreadPool.SetMinThreads(Math.Max(workers, InFlight + Environment.ProcessorCount), completionThreads);
        var counts = new long[InFlight * CountStride];
        using var stop = new CancellationTokenSource();
        try
        {
            var loops = new Task[InFlight];
            for (var i = 0; i < InFlight; i++)
            {
                var slot = i * CountStride;
                loops[i] = Task.Run(() => Loop(echo, counts, slot, stop.Token));
            }
            Thread.Sleep(context.Settings.WarmUp);
            var startCount = Sum(counts);
            var start = Stopwatch.GetTimestamp();
            Thread.Sleep(context.Settings.Duration);
            var endCount = Sum(counts);
            var elapsed = Stopwatch.GetElapsedTime(start);
            stop.Cancel();
            if (!Task.WaitAll(loops, TimeSpan.FromSeconds(30)))
                throw new BenchFailedException("the asynchronous IOCTLs did not finish within 30 s of the end of the run");
            var measured = endCount - startCount;
            return BenchResult.Throughput(measured / elapsed.TotalSeconds, (int)Math.Min(measured, int.MaxValue)) with { Operations = Sum(counts) };
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, completionThreads);
        }
    }

    /// <summary>Longs between two loops' counters: each on a cache line of its own.</summary>
    private const int CountStride = 8;

    private static async Task Loop(DeviceFile echo, long[] counts, int slot, CancellationToken stop)
    {
        var input = new byte[KernelBridgeMeasurements.IoctlBytes];
        var output = new byte[KernelBridgeMeasurements.IoctlBytes];
        var code = EchoInterface.IOCTL_ECHO_BUFFERED.Value;
        while (!stop.IsCancellationRequested)
        {
            await echo.IoControlAsync(code, input, output, CancellationToken.None).ConfigureAwait(false);
            Volatile.Write(ref counts[slot], counts[slot] + 1);
        }
    }

    private static long Sum(long[] counts)
    {
        long total = 0;
        for (var i = 0; i < counts.Length; i += CountStride) total += Volatile.Read(ref counts[i]);
        return total;
    }
}
