using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// A kernel of the bench tests' own (built-in drivers, persistent) and one
/// `kbridge bench --quick --json --chart FILE` run on it, made once for the class (the run takes
/// tens of seconds) and read by each test.
/// </summary>
public sealed class BenchFixture : IDisposable
{
    /// <summary>Generous: the measurements are bounded in time, but starting peers on a busy machine is not.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(150);

    private readonly KernelProcess _kernel;
    private readonly Lazy<CliResult> _quickRun;

    public BenchFixture()
    {
        Instance = KernelProcess.NewInstanceName("bench");
        _kernel = KernelProcess.Start(Instance, "--persistent");
        Gate = _kernel.Connect();
        ChartPath = Path.Combine(Path.GetTempPath(), $"kbridge-bench-test-{Guid.NewGuid():N}.png");
        _quickRun = new Lazy<CliResult>(() => Run("bench", "--quick", "--json", "--chart", ChartPath));
    }

    public string Instance { get; }

    public GateClient Gate { get; }

    public string ChartPath { get; }

    /// <summary>The one quick run, with JSON and a chart.</summary>
    internal CliResult QuickRun => _quickRun.Value;

    /// <summary>Runs kbridge on this fixture's instance, bounded by <see cref="RunTimeout"/>.</summary>
    internal CliResult Run(params string[] arguments) => Kbridge.RunWithin(RunTimeout, [.. arguments, "--instance", Instance]);

    /// <summary>How many clients the kernel serves now (this fixture's own connection is one).</summary>
    public int Clients => KernelControl.QueryState(Gate).Clients;

    public void Dispose()
    {
        File.Delete(ChartPath);
        Gate.Dispose();
        _kernel.Dispose();
    }
}
