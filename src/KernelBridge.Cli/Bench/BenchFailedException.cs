namespace KernelBridge.Cli.Bench;

/// <summary>A measurement could not be made (a peer did not start or answer): one sentence for the user, exit 1.</summary>
internal sealed class BenchFailedException(string message) : Exception(message);
