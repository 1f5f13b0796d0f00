using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Win32k;

/// <summary>The message mechanism's quota: posted messages one queue holds, and what a process's queues hold now.</summary>
internal sealed partial class UserSubsystem
{
    /// <summary>
    /// USERPostMessageLimit: posted messages one thread's queue holds; the next post fails with
    /// ERROR_NOT_ENOUGH_QUOTA, as on Windows (10,000 unless the kernel was told otherwise).
    /// </summary>
    public int PostMessageLimit { get; init; } = Abi.Win32k.UserLimits.PostMessageLimit;

    /// <summary>Messages posted to the threads of <paramref name="process"/> and not yet taken (for `kbridge stats`).</summary>
    public int PostedMessagesOf(ProcessObject process)
    {
        var total = 0;
        lock (_lock)
        {
            foreach (var queue in _queues.Values)
                if (ReferenceEquals(queue.Process, process)) total += queue.Posted.Count;
        }
        return total;
    }
}
