using System.Diagnostics;

namespace KernelBridge.Fuzz;

/// <summary>What a mutation run did.</summary>
public sealed record MutationResult(long Executions, IReadOnlyList<(byte[] Input, KernelFaultException Fault)> Failures)
{
    public int Crashes => Failures.Count(f => !f.Fault.IsHang);
    public int Hangs => Failures.Count(f => f.Fault.IsHang);
}

/// <summary>
/// Fuzzing without AFL, for where AFL cannot run: seeded mutations of the corpus (<see cref="ByteMutator"/>),
/// for a time, through the same harness. Blind (no coverage feedback), but the same crash detector.
/// </summary>
public static class MutationRun
{
    public static MutationResult Run(string corpus, TimeSpan duration, int seed, string? crashDirectory, TextWriter? log = null)
    {
        var seeds = Directory.EnumerateFiles(corpus).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        if (seeds.Length == 0) throw new InvalidOperationException($"no seeds in {corpus}");
        using var kernel = new InProcessKernel();
        var harness = new ConnectionHarness(kernel);
        var mutator = new ByteMutator(seed);
        var failures = new List<(byte[], KernelFaultException)>();
        var clock = Stopwatch.StartNew();
        long executions = 0;
        while (clock.Elapsed < duration)
        {
            var input = executions < seeds.Length ? seeds[executions] : mutator.Mutate(seeds[executions % seeds.Length]);
            executions++;
            try
            {
                harness.Run(input);
            }
            catch (KernelFaultException fault)
            {
                failures.Add((input, fault));
                log?.WriteLine($"{(fault.IsHang ? "HANG" : "CRASH")} on input {executions}: {fault.Message}{Environment.NewLine}{fault.InnerException}");
                if (crashDirectory is not null)
                {
                    Directory.CreateDirectory(crashDirectory);
                    File.WriteAllBytes(Path.Combine(crashDirectory, $"{(fault.IsHang ? "hang" : "crash")}-{seed}-{executions}"), input);
                }
            }
        }
        return new MutationResult(executions, failures);
    }
}
