using KernelBridge.Abi.Protocol;

namespace KernelBridge.Client.Gate;

/// <summary>
/// Which gate a new connection asks for: KERNELBRIDGE_GATE=shm (the default: calls and results go
/// through a shared syscall area) or socket (every frame on the control socket, the fallback and
/// baseline); KERNELBRIDGE_SPIN=0 makes both sides sleep at once instead of spinning briefly.
/// </summary>
public static class GateSelection
{
    public const string GateVariable = "KERNELBRIDGE_GATE";
    public const string SpinVariable = "KERNELBRIDGE_SPIN";
    public const string InlineCompletionsVariable = "KERNELBRIDGE_INLINE_COMPLETIONS";

    /// <summary>KERNELBRIDGE_INLINE_COMPLETIONS's value: 1 on, 0 or unset off; another value throws <see cref="ArgumentException"/> naming it.</summary>
    public static bool ParseInlineCompletions(string? value) => value?.Trim() switch
    {
        null or "" or "0" => false,
        "1" => true,
        _ => throw new ArgumentException($"{InlineCompletionsVariable}='{value}': use 1 (run continuations on the gate's thread) or 0 (queue them, the default)"),
    };

    /// <summary>The features the environment asks for; a value that is neither throws <see cref="ArgumentException"/> naming it.</summary>
    public static GateFeatures FromEnvironment()
    {
        ParseInlineCompletions(Environment.GetEnvironmentVariable(InlineCompletionsVariable));
        return Parse(Environment.GetEnvironmentVariable(GateVariable), Environment.GetEnvironmentVariable(SpinVariable));
    }

    public static GateFeatures Parse(string? gate, string? spin)
    {
        var features = gate?.Trim().ToLowerInvariant() switch
        {
            null or "" or "shm" => GateFeatures.SharedMemory,
            "socket" => GateFeatures.None,
            _ => throw new ArgumentException($"{GateVariable}='{gate}': use 'shm' (shared memory, the default) or 'socket'"),
        };
        return spin?.Trim() switch
        {
            null or "" or "1" => features,
            "0" => features | GateFeatures.NoSpin,
            _ => throw new ArgumentException($"{SpinVariable}='{spin}': use 0 (never spin) or 1 (spin briefly, the default)"),
        };
    }
}
