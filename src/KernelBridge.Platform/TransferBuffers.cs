using System.Buffers;
using System.Numerics;

namespace KernelBridge.Platform;

/// <summary>
/// Memory for whole frames and I/O transfers (up to 64 MiB). Buffers of up to 1 MiB come from
/// <see cref="ArrayPool{T}.Shared"/>. Larger ones are kept only for the next burst: a couple stay
/// after use, and a moment after the last large transfer they are let go. ArrayPool.Shared would
/// keep them until the runtime sees memory pressure, which an idle kernel never does: a few 64 MiB
/// writes used to leave the idle kernel over 1 GB resident.
/// </summary>
public static class TransferBuffers
{
    /// <summary>Buffers longer than this are large.</summary>
    public const int LargeThreshold = 1024 * 1024;

    private const int KeptLargeBuffers = 2;
    private static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(2);

    private static readonly Lock Sync = new();
    private static readonly List<byte[]> Kept = [];
    private static Timer? _idleTimer;

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes (not cleared).</summary>
    public static byte[] Rent(int minimumLength)
    {
        if (minimumLength <= LargeThreshold) return ArrayPool<byte>.Shared.Rent(minimumLength);
        lock (Sync)
        {
            for (var i = 0; i < Kept.Count; i++)
            {
                if (Kept[i].Length < minimumLength) continue;
                var kept = Kept[i];
                Kept.RemoveAt(i);
                return kept;
            }
        }
        return GC.AllocateUninitializedArray<byte>((int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)minimumLength), Array.MaxLength));
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/>; the caller must not touch it again.</summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length <= LargeThreshold)
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        lock (Sync)
        {
            if (Kept.Count < KeptLargeBuffers) Kept.Add(buffer);
            _idleTimer ??= new Timer(_ => Trim());
            _idleTimer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Lets the kept large buffers go now. Their memory returns to the system at the next full
    /// collection that gives memory back (the kernel runs one when it goes idle).
    /// </summary>
    public static void Trim()
    {
        lock (Sync) Kept.Clear();
    }
}
