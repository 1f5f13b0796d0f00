using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel;

/// <summary>A driver compiled into the host, started at boot.</summary>
public sealed record BuiltInDriver(string ServiceName, DriverInitialize Entry);

/// <summary>How to run a kernel host.</summary>
public sealed record KernelOptions
{
    /// <summary>The instance name (null: KERNELBRIDGE_INSTANCE, else "default").</summary>
    public string? Instance { get; init; }

    /// <summary>Keep running when the last client leaves.</summary>
    public bool Persistent { get; init; }

    /// <summary>The longest <see cref="IdleTimeout"/>: 30 days (a kernel meant to stay longer is persistent).</summary>
    public static TimeSpan MaxIdleTimeout { get; } = TimeSpan.FromDays(30);

    /// <summary>How long a non-persistent kernel lingers after its last client: 0 to <see cref="MaxIdleTimeout"/>.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the instance's lock (a kernel taking over waits for the one it stopped); 0: not at all.</summary>
    public TimeSpan LockWait { get; init; }

    public IReadOnlyList<BuiltInDriver> BuiltInDrivers { get; init; } = [];

    /// <summary>Driver assemblies to load at boot (boot-start drivers: no privilege check).</summary>
    public IReadOnlyList<string> BootDrivers { get; init; } = [];

    /// <summary>Log every system call and its result.</summary>
    public bool Trace { get; init; }

    public FaultPolicy FaultPolicy { get; init; } = FaultPolicy.Isolate;
}
