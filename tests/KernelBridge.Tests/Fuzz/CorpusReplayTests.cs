using KernelBridge.Abi.Protocol;
using KernelBridge.Fuzz;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Tests.Fuzz;

/// <summary>
/// The fuzz harness (fuzz/KernelBridge.Fuzz) without AFL: the committed seed corpus, the seeds the
/// generator makes today (so a new service is covered even before the corpus is regenerated), and a
/// few thousand seeded mutations of them, each served by a client connection of a kernel booted in
/// this process. None may crash or hang, and every client's process runs down to nothing.
/// </summary>
public sealed class CorpusReplayTests
{
    private static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");

    [Fact]
    public void The_committed_corpus_replays_without_a_crash_and_leaves_the_kernel_as_it_was()
    {
        var log = new StringWriter();
        var result = CorpusReplay.Run(CorpusDirectory, log);
        Assert.True(result.Inputs >= 50, $"only {result.Inputs} seeds in {CorpusDirectory}");
        Assert.True(result.Failures.Count == 0, $"{result.Summary}{Environment.NewLine}{log}");
        Assert.Equal(result.ObjectsBefore, result.ObjectsAfter);
        Assert.Equal(result.HandlesBefore, result.HandlesAfter);
    }

    [Fact]
    public void Every_service_has_a_seed_and_each_reaches_its_service()
    {
        using var kernel = new InProcessKernel();
        var harness = new ConnectionHarness(kernel);
        var seeds = SeedCorpus.All().ToDictionary(s => s.Name, s => s.Bytes);
        foreach (var number in SyscallTable.All)
        {
            var run = harness.Run(seeds[$"service-{(ushort)number:D3}-{number}"], keepReplies: true);
            // The Hello's reply, then the service's own: not a protocol violation, an answer from the service (or its checks).
            Assert.Contains(run.Replies!, r => r.Kind == FrameKind.Return && r.Code == (ushort)number);
        }
    }

    [Fact]
    public void Mutated_seeds_crash_nothing_and_every_client_runs_down()
    {
        using var kernel = new InProcessKernel();
        var harness = new ConnectionHarness(kernel);
        var (objects, handles) = (kernel.TemporaryObjects, kernel.TotalHandles);
        var seeds = SeedCorpus.All().Select(s => s.Bytes).ToArray();
        var mutator = new ByteMutator(seed: 20261206);
        var served = 0;
        for (var i = 0; i < 3000; i++)
        {
            var input = mutator.Mutate(seeds[i % seeds.Length]);
            try
            {
                served += harness.Run(input).ReplyFrames;
            }
            catch (KernelFaultException fault)
            {
                Assert.Fail($"input {i} ({Convert.ToHexString(input)}): {fault.Message}{Environment.NewLine}{fault.InnerException}");
            }
        }
        Assert.True(served > 3000, $"only {served} frames came back for 3000 inputs: the mutations never got past the handshake");
        Assert.Equal(objects, kernel.TemporaryObjects);
        Assert.Equal(handles, kernel.TotalHandles);
    }

    [Fact]
    public void A_protocol_violation_is_not_a_crash_but_a_hang_up()
    {
        using var kernel = new InProcessKernel();
        var harness = new ConnectionHarness(kernel);
        // A Call frame announcing more than the largest frame: the kernel closes the connection after the HelloReply.
        var run = harness.Run([.. BitConverter.GetBytes(uint.MaxValue), 3, 0, 200, 0, 1, 0, 0, 0, 1, 0, 0, 0], keepReplies: true);
        Assert.Equal([FrameKind.HelloReply], run.Replies!.Select(r => r.Kind));
    }

    /// <summary>The harness's crash detector: a service failure the connection's guard caught is a crash; a driver's bug check is not.</summary>
    [Fact]
    public void A_failure_inside_the_kernel_is_caught_and_a_bug_check_is_not()
    {
        using var log = new ServiceFailureLog();
        log.Log(LogLevel.Critical, new EventId(900), "driver fault", new InvalidOperationException("in a driver"), (s, _) => s);
        log.Log(LogLevel.Warning, new EventId(200), "protocol violation", null, (s, _) => s);
        Assert.Empty(log.Drain());
        log.Log(LogLevel.Error, new EventId(202), "NtClose from process 1 failed inside the kernel", new NullReferenceException(), (s, _) => s);
        var failure = Assert.Single(log.Drain());
        Assert.IsType<NullReferenceException>(failure.Exception);
        Assert.Empty(log.Drain());
    }
}
