namespace KernelBridge.Cli.Bench;

/// <summary>
/// What `kbridge bench --scaling` runs: IOCTL throughput with each number of client processes,
/// each hammering for <see cref="Hammer"/>; then the kernel's CPU time with <see cref="IdleClients"/>
/// idle clients over <see cref="Idle"/>.
/// </summary>
internal sealed record ScalingPlan(IReadOnlyList<int> Clients, TimeSpan Hammer, int IdleClients, TimeSpan Idle)
{
    public static readonly IReadOnlyList<int> StandardClients = [1, 2, 4, 8, 64];

    public const int StandardIdleClients = 8;

    public static readonly TimeSpan StandardIdle = TimeSpan.FromSeconds(10);

    public static ScalingPlan For(bool quick) =>
        new(StandardClients, TimeSpan.FromSeconds(quick ? 2 : 5), StandardIdleClients, StandardIdle);
}
