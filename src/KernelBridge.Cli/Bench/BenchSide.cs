namespace KernelBridge.Cli.Bench;

/// <summary>Which side of the comparison a measurement stands on: the real machine, or KernelBridge.</summary>
internal enum BenchSide
{
    Baseline,
    KernelBridge,
}
