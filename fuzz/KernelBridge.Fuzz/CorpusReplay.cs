using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Fuzz;

/// <summary>One replayed file that crashed or hung.</summary>
public sealed record ReplayFailure(string File, KernelFaultException Fault);

/// <summary>What a replay found, and the kernel's counts before and after (every input's process runs down, so they must match).</summary>
public sealed record ReplayResult(int Inputs, IReadOnlyList<ReplayFailure> Failures, int ObjectsBefore, int ObjectsAfter, int HandlesBefore, int HandlesAfter)
{
    public int Crashes => Failures.Count(f => !f.Fault.IsHang);
    public int Hangs => Failures.Count(f => f.Fault.IsHang);

    public string Summary => $"replay: {Inputs} inputs, {Crashes} crashes, {Hangs} hangs; kernel objects {ObjectsBefore} -> {ObjectsAfter}, handles {HandlesBefore} -> {HandlesAfter}";
}

/// <summary>Runs every file of a corpus (or one file) once, in name order, without AFL: deterministic, for CI and for reproducing a crash.</summary>
public static class CorpusReplay
{
    public static ReplayResult Run(string path, TextWriter? log = null, bool verbose = false)
    {
        var files = File.Exists(path) ? [path] : Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        using var kernel = new InProcessKernel();
        var harness = new ConnectionHarness(kernel);
        var (objectsBefore, handlesBefore) = (kernel.TemporaryObjects, kernel.TotalHandles);
        var failures = new List<ReplayFailure>();
        foreach (var file in files)
        {
            try
            {
                var run = harness.Run(File.ReadAllBytes(file), keepReplies: verbose);
                if (verbose) log?.WriteLine($"{Path.GetFileName(file)}: {Describe(run)}");
            }
            catch (KernelFaultException fault)
            {
                failures.Add(new ReplayFailure(file, fault));
                log?.WriteLine($"{Path.GetFileName(file)}: {(fault.IsHang ? "HANG" : "CRASH")} {fault.Message}{Environment.NewLine}{fault.InnerException}");
            }
        }
        return new ReplayResult(files.Length, failures, objectsBefore, kernel.TemporaryObjects, handlesBefore, kernel.TotalHandles);
    }

    private static string Describe(HarnessRun run) =>
        $"{run.ReplyFrames} frames back" + (run.Replies is { } replies
            ? ": " + string.Join(", ", replies.Select(r => r.Kind == FrameKind.Return ? $"#{r.Sequence} {SyscallTable.Name(r.Code)} {(NtStatus)r.Value}" : $"{r.Kind} {(NtStatus)r.Value}"))
            : "");
}
