namespace KernelBridge.Kernel.Ps;

/// <summary>
/// What one process is charged for, against its <see cref="QuotaLimits"/>. Counters only, changed
/// with Interlocked (no lock, no allocation): a charge that would pass the limit is taken back and
/// refused. Handles and pending IRPs are counted by the handle table and the pending-I/O set
/// themselves (under the locks they take anyway); views by their bytes here; completion packets
/// and filter port messages here too. Every charge has its return on every path, so a process
/// that has gone holds nothing.
/// </summary>
internal sealed class ProcessQuota(QuotaLimits limits) : Ddk.IQueuePacketCharge
{
    private long _mappedBytes;
    private int _completionPackets;
    private int _portMessages;

    public QuotaLimits Limits { get; } = limits;

    public long MappedBytes => Interlocked.Read(ref _mappedBytes);
    public int CompletionPackets => Volatile.Read(ref _completionPackets);
    public int PortMessages => Volatile.Read(ref _portMessages);

    public bool TryChargeMappedBytes(long bytes) => TryCharge(ref _mappedBytes, bytes, Limits.MaxMappedBytes);

    public void ReturnMappedBytes(long bytes) => Interlocked.Add(ref _mappedBytes, -bytes);

    public bool TryChargeCompletionPacket() => TryCharge(ref _completionPackets, Limits.MaxCompletionPackets);

    /// <summary>A packet this process queued by hand left its port (taken, or dropped with the port).</summary>
    public void PacketRemoved() => Interlocked.Decrement(ref _completionPackets);

    public bool TryChargePortMessage() => TryCharge(ref _portMessages, Limits.MaxPortMessages);

    public void ReturnPortMessage() => Interlocked.Decrement(ref _portMessages);

    private static bool TryCharge(ref int used, int limit)
    {
        if (Interlocked.Increment(ref used) <= limit) return true;
        Interlocked.Decrement(ref used);
        return false;
    }

    private static bool TryCharge(ref long used, long amount, long limit)
    {
        // Checked before adding too, so a charge near long.MaxValue cannot overflow.
        if (amount > limit - Interlocked.Read(ref used)) return false;
        if (Interlocked.Add(ref used, amount) <= limit) return true;
        Interlocked.Add(ref used, -amount);
        return false;
    }
}
