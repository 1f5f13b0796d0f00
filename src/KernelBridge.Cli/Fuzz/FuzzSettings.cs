namespace KernelBridge.Cli.Fuzz;

/// <summary>What `kbridge fuzz` was asked for.</summary>
internal sealed record FuzzSettings(string Instance, TimeSpan Duration, int Seed, int Workers, bool Rings, bool LiveView);
