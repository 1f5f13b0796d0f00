using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The bench's connections name their gate: a figure must say which gate it measured, whatever
/// KERNELBRIDGE_GATE says. A kernel that does not grant the gate asked for fails the run, clearly.
/// </summary>
internal static class BenchGate
{
    /// <summary>Connects asking for <paramref name="features"/>; throws <see cref="BenchFailedException"/> if the kernel gave another gate.</summary>
    public static GateClient Connect(string? instance, bool autoStart, GateFeatures features)
    {
        var gate = GateClient.Connect(instance, autoStart, features);
        try
        {
            Require(gate, features);
            return gate;
        }
        catch
        {
            gate.Dispose();
            throw;
        }
    }

    /// <summary>Throws <see cref="BenchFailedException"/> unless <paramref name="gate"/> uses the gate <paramref name="features"/> asks for.</summary>
    public static void Require(GateClient gate, GateFeatures features)
    {
        var wantsSharedMemory = (features & GateFeatures.SharedMemory) != 0;
        if (gate.UsesSharedMemory == wantsSharedMemory) return;
        throw new BenchFailedException(wantsSharedMemory
            ? $"the kernel of instance '{gate.Instance}' did not grant the shared-memory gate (it may run with the gate turned off, on a system without futex_waitv, or serve as many shared-memory clients as it may)"
            : $"the kernel of instance '{gate.Instance}' gave a shared-memory gate to a connection that asked for the socket gate");
    }
}
