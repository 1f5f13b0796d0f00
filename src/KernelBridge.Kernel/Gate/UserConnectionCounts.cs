namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Connections per Unix user, against <see cref="QuotaLimits.MaxConnectionsPerUser"/>: one user
/// cannot take every place the kernel has. Touched only when a client connects or leaves.
/// </summary>
internal sealed class UserConnectionCounts(int limit)
{
    private readonly Dictionary<uint, int> _counts = [];

    public int Limit { get; } = limit;

    /// <summary>Counts one more connection of <paramref name="userId"/>; false (nothing counted) if it has its limit already.</summary>
    public bool TryAdd(uint userId)
    {
        lock (_counts)
        {
            _counts.TryGetValue(userId, out var count);
            if (count >= Limit) return false;
            _counts[userId] = count + 1;
            return true;
        }
    }

    public void Remove(uint userId)
    {
        lock (_counts)
        {
            if (!_counts.TryGetValue(userId, out var count)) return;
            if (count <= 1) _counts.Remove(userId);
            else _counts[userId] = count - 1;
        }
    }
}
