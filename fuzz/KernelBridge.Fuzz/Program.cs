using SharpFuzz;

namespace KernelBridge.Fuzz;

/// <summary>
/// kbridge-fuzz: with no arguments, the AFL target (SharpFuzz's persistent loop: each input is one
/// client's stream of frames); --replay PATH runs a corpus once without AFL; --mutate CORPUS SECONDS
/// fuzzes blind (seeded mutations, no AFL); --write-corpus DIR writes the seed corpus.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case []:
                return RunUnderAfl();
            case ["--replay", var path, .. var rest]:
                var result = CorpusReplay.Run(path, Console.Out, verbose: rest.Contains("--verbose"));
                Console.WriteLine(result.Summary);
                return result.Failures.Count == 0 ? 0 : 1;
            case ["--mutate", var corpus, var seconds, .. var rest]:
                var crashes = rest is ["--crashes", var crashDirectory, ..] ? crashDirectory : null;
                var mutation = MutationRun.Run(corpus, TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)),
                    seed: Environment.ProcessId, crashes, Console.Out);
                Console.WriteLine($"mutate: {mutation.Executions} executions, {mutation.Crashes} crashes, {mutation.Hangs} hangs");
                return mutation.Crashes == 0 ? 0 : 1;
            case ["--write-corpus", var directory]:
                Console.WriteLine($"{SeedCorpus.Write(directory)} seeds written to {directory}");
                return 0;
            default:
                Console.Error.WriteLine("usage: KernelBridge.Fuzz [--replay FILE|DIR [--verbose] | --mutate CORPUS SECONDS [--crashes DIR] | --write-corpus DIR]   (no arguments: run under afl-fuzz)");
                return 2;
        }
    }

    private static int RunUnderAfl()
    {
        // Instrumented code may not run before SharpFuzz has set up the coverage map (it would write
        // through a null pointer): the kernel boots inside the first execution.
        InProcessKernel? kernel = null;
        ConnectionHarness? harness = null;
        var buffer = new MemoryStream();
        try
        {
            Fuzzer.Run(stream =>
            {
                kernel ??= new InProcessKernel();
                harness ??= new ConnectionHarness(kernel);
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                harness.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            });
        }
        finally
        {
            kernel?.Dispose();
        }
        return 0;
    }
}
