using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>Helpers for the quota tests: a kernel of the test's own with low limits, and "processes" (connections) on it.</summary>
internal static unsafe class QuotaTest
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>A persistent kernel with <paramref name="options"/> (the quota options), the test driver loaded.</summary>
    public static KernelProcess StartKernel(string purpose, params string[] options) =>
        KernelProcess.Start(KernelProcess.NewInstanceName(purpose), ["--persistent", "--driver", KernelProcess.TestDriverPath, .. options]);

    /// <summary>
    /// A new process as the kernel sees it (its own connection, handle table and quotas). Starting a
    /// kernel probes its socket with a connection of its own, which counts until the kernel sees it
    /// close: retried (bounded) while a limit on connections refuses it.
    /// </summary>
    public static GateClient Connect(KernelProcess kernel)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                return kernel.Connect();
            }
            catch (KernelUnavailableException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>NtCreateEvent on <paramref name="gate"/>: its status, and the handle if it worked.</summary>
    public static NtStatus CreateEvent(GateClient gate, out nint handle)
    {
        nint created = 0;
        NtStatus status;
        using (GateClient.Use(gate))
            status = Ntdll.NtCreateEvent(&created, AccessMask.EVENT_ALL_ACCESS, new ObjectAttributes(null), EventType.NotificationEvent, false);
        handle = created;
        return status;
    }

    public static NtStatus Close(GateClient gate, nint handle)
    {
        using (GateClient.Use(gate)) return Ntdll.NtClose(handle);
    }

    /// <summary>The kernel's state, polled (bounded) until <paramref name="done"/> holds; the last one read.</summary>
    public static KernelQuotas WaitForQuotas(GateClient gate, Func<KernelQuotas, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var quotas = KernelControl.QueryQuotas(gate);
        while (!done(quotas) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            quotas = KernelControl.QueryQuotas(gate);
        }
        return quotas;
    }
}
