namespace KernelBridge.Cli.Stress;

/// <summary>What `kbridge stress` was asked for.</summary>
internal sealed record StressSettings(string Instance, int Processes, int Threads, TimeSpan Duration, bool Json);
