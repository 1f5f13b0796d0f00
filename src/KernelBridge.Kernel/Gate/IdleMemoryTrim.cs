using KernelBridge.Platform;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Gives memory back when the kernel goes quiet. A burst of work leaves garbage and freed transfer
/// buffers in the heap, and an idle process runs no collection that would return them: a couple
/// of seconds after the last frame from any client, if the burst allocated enough to matter, the
/// kept transfer buffers are let go and one compacting collection hands the memory back to the
/// system. Steady traffic that allocates nothing never pays for a collection.
/// </summary>
internal sealed class IdleMemoryTrim : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    /// <summary>Allocation since the last trim below which a collection is not worth its pause.</summary>
    private const long WorthTrimming = 1024 * 1024;

    private readonly Timer _timer;
    private long _lastFrame;
    private long _allocatedAtLastTrim = GC.GetTotalAllocatedBytes();
    private int _armed;

    public IdleMemoryTrim() => _timer = new Timer(_ => OnTimer());

    /// <summary>A frame came in (the hot path: a clock read, a store and, while the timer runs, one load).</summary>
    public void NoteFrame()
    {
        Volatile.Write(ref _lastFrame, Environment.TickCount64);
        if (Volatile.Read(ref _armed) == 0 && Interlocked.Exchange(ref _armed, 1) == 0) Arm(Quiet);
    }

    private void OnTimer()
    {
        var last = Volatile.Read(ref _lastFrame);
        var quietFor = Environment.TickCount64 - last;
        if (quietFor < (long)Quiet.TotalMilliseconds)
        {
            // Still busy: look again when it could have been quiet long enough.
            Arm(TimeSpan.FromMilliseconds((long)Quiet.TotalMilliseconds - quietFor));
            return;
        }
        if (GC.GetTotalAllocatedBytes() - _allocatedAtLastTrim >= WorthTrimming)
        {
            TransferBufferPool.Shared.Trim();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _allocatedAtLastTrim = GC.GetTotalAllocatedBytes();
        }
        Volatile.Write(ref _armed, 0);
        // A frame that came meanwhile saw the timer armed and left it alone: arm it for that one.
        if (Volatile.Read(ref _lastFrame) != last) NoteFrame();
    }

    private void Arm(TimeSpan due)
    {
        try
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The kernel is stopping: a frame served after the gate closed needs no trim.
        }
    }

    public void Dispose() => _timer.Dispose();
}
