namespace KernelBridge.Cli.Bench;

/// <summary>How long each measurement runs: the full run takes a few minutes, --quick under one.</summary>
internal sealed record BenchSettings(TimeSpan WarmUp, TimeSpan Duration, int MaxSamples)
{
    public static readonly BenchSettings Full = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6), 2_000_000);

    public static readonly BenchSettings Quick = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1.5), 1_000_000);

    /// <summary>
    /// The shortest a timing should be: reading the clock costs about 20 ns, so operations shorter
    /// than this are timed in batches; no longer than the run over <see cref="MaxSamples"/>.
    /// </summary>
    public double SampleNanoseconds => Math.Max(2_000, Duration.TotalNanoseconds / MaxSamples);
}
