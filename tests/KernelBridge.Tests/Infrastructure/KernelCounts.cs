using KernelBridge.Client;
using KernelBridge.Client.Gate;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>The kernel's books (KbQueryKernelState) as tests that count views, sections and clients read them.</summary>
public static class KernelCounts
{
    /// <summary>Polls the kernel's state until <paramref name="done"/> holds or <paramref name="timeout"/> passes; the last state read.</summary>
    public static KernelState WaitFor(GateClient gate, Func<KernelState, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var state = KernelControl.QueryState(gate);
        while (!done(state) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            state = KernelControl.QueryState(gate);
        }
        return state;
    }
}
