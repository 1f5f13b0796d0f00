using System.Buffers;
using System.Numerics;

namespace KernelBridge.Platform;

/// <summary>
/// Memory for whole frames and I/O transfers (up to 64 MiB). Buffers of up to 1 MiB come from
/// <see cref="ArrayPool{T}.Shared"/>. Larger ones are kept only for the next burst: a couple stay
/// after use, and a moment after the last large transfer they are let go. ArrayPool.Shared would
/// keep them until the runtime sees memory pressure, which an idle kernel never does: a few 64 MiB
/// writes used to leave the idle kernel over 1 GB resident. An <see cref="ArrayPool{T}"/>, so code
/// that must not know this assembly (the kernel's executive) can be handed one.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One instance per process (Shared), living as long as the process: its timer is never to be disposed.")]
public sealed class TransferBufferPool : ArrayPool<byte>
{
    /// <summary>Buffers longer than this are large.</summary>
    public const int LargeThreshold = 1024 * 1024;

    private const int KeptLargeBuffers = 2;
    private static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly List<byte[]> _kept = [];
    private readonly Timer _idleTimer;

    private TransferBufferPool() => _idleTimer = new Timer(_ => Trim());

    /// <summary>The process's pool: the frames of every connection and the kernel's I/O buffers share it.</summary>
    public static new TransferBufferPool Shared { get; } = new();

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes (not cleared).</summary>
    public override byte[] Rent(int minimumLength)
    {
        if (minimumLength <= LargeThreshold) return ArrayPool<byte>.Shared.Rent(minimumLength);
        lock (_lock)
        {
            for (var i = 0; i < _kept.Count; i++)
            {
                if (_kept[i].Length < minimumLength) continue;
                var kept = _kept[i];
                _kept.RemoveAt(i);
                return kept;
            }
        }
        return GC.AllocateUninitializedArray<byte>((int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)minimumLength), Array.MaxLength));
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/>; the caller must not touch it again.</summary>
    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length <= LargeThreshold)
        {
            if (array.Length > 0) ArrayPool<byte>.Shared.Return(array, clearArray);
            return;
        }
        if (clearArray) Array.Clear(array);
        lock (_lock)
        {
            if (_kept.Count < KeptLargeBuffers) _kept.Add(array);
            _idleTimer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Lets the kept large buffers go now. Their memory returns to the system at the next full
    /// collection that gives memory back (the kernel runs one when it goes idle).
    /// </summary>
    public void Trim()
    {
        lock (_lock) _kept.Clear();
    }
}
