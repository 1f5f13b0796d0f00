using System.Collections.Concurrent;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Keeps a log line that can repeat without end (a failing accept, a refused client) to one per
/// kind per interval; the next line written says how many were held back meanwhile.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval)
{
    private sealed class Slot
    {
        public long NextAllowed;
        public int Suppressed;
    }

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>True if a line of <paramref name="kind"/> may be written now; <paramref name="suppressed"/> is how many were not since the last.</summary>
    public bool ShouldLog(string kind, out int suppressed)
    {
        var slot = _slots.GetOrAdd(kind, static _ => new Slot());
        var now = Environment.TickCount64;
        lock (slot)
        {
            if (now < slot.NextAllowed)
            {
                slot.Suppressed++;
                suppressed = 0;
                return false;
            }
            slot.NextAllowed = now + (long)interval.TotalMilliseconds;
            suppressed = slot.Suppressed;
            slot.Suppressed = 0;
            return true;
        }
    }
}
