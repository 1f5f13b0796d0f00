using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Cli.Bench;

/// <summary>What a measurement function is given: the settings, the connection to the instance's kernel, and a way to start peers.</summary>
internal sealed class BenchContext(BenchSettings settings, GateClient gate)
{
    public BenchSettings Settings { get; } = settings;

    /// <summary>The bench's own connection, on the shared-memory gate (the measuring thread's <see cref="GateClient.Current"/>).</summary>
    public GateClient Gate { get; } = gate;

    public string Instance => Gate.Instance;

    /// <summary>Another connection to the same kernel, on the gate <paramref name="features"/> asks for (checked).</summary>
    public GateClient Connect(GateFeatures features) => BenchGate.Connect(Instance, autoStart: false, features);

    /// <summary>Starts `kbridge bench-peer MODE ARGS...` on this instance and waits until it says it is ready.</summary>
    public BenchPeer StartPeer(string mode, params string[] arguments) => BenchPeer.Start(Instance, mode, arguments);

    /// <summary>A name no other run uses, for sockets and named objects.</summary>
    public static string UniqueName(string purpose) => $"kbridge-bench-{Environment.ProcessId}-{purpose}-{Guid.NewGuid().ToString("N")[..8]}";
}
