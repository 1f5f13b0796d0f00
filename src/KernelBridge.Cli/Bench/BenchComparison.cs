namespace KernelBridge.Cli.Bench;

/// <summary>
/// A figure derived from two measurements of the same run: how many times faster <see cref="Faster"/>
/// is than <see cref="Slower"/> (the slower one's time per operation over the faster one's), and the
/// speed-up it should reach. Its key shares the JSON object with the measurements' keys.
/// </summary>
internal sealed record BenchComparison(string Key, string Title, string Slower, string Faster, double Target);
