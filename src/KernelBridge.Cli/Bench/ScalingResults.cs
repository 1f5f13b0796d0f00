namespace KernelBridge.Cli.Bench;

/// <summary>IOCTL throughput with <see cref="Clients"/> client processes: the sum, and the slowest and fastest client (is any starved?).</summary>
internal sealed record ScalingPoint(int Clients, double PerSecond, double MinPerClient, double MaxPerClient);

/// <summary>The kernel's CPU time (utime + stime) over <see cref="Over"/> with <see cref="Clients"/> idle clients, as a percentage of one core.</summary>
internal sealed record IdleCpu(int Clients, TimeSpan Over, double PercentOfOneCore, int KernelProcessId);

/// <summary>What `kbridge bench --scaling` found.</summary>
internal sealed record ScalingResults(IReadOnlyList<ScalingPoint> Points, IdleCpu Idle)
{
    /// <summary>What each point is compared with: the run with the fewest clients.</summary>
    public ScalingPoint Baseline => Points[0];

    public static string Key(ScalingPoint point) => $"clients_{point.Clients}";

    public const string IdleKey = "idle_kernel_cpu";
}
