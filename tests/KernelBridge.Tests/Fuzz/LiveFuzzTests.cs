using System.Text.Json;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Fuzz;

/// <summary>
/// `kbridge fuzz` against a real kernel process of the test's own: raw-socket workers and ring
/// scribblers for a few seconds while its checker client is served. The kernel must survive (the
/// same pid), the checker must never fail, and the fuzzers' processes must run down to the
/// kernel's objects and handles of before. The checker speaks the gate the suite runs on.
/// </summary>
public sealed class LiveFuzzTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public void Five_seconds_of_fuzzing_kill_nothing_fail_no_call_and_leave_the_kernel_as_it_was()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("fuzz"), "--persistent");
        var result = Kbridge.RunWithin(Limit, "fuzz", "--instance", kernel.Instance, "--duration", "5s", "--seed", "20261206", "--workers", "2", "--rings", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json();
        Assert.Equal(kernel.Process.Id, report.GetProperty("kernelPid").GetInt32());
        Assert.Equal(0, report.GetProperty("crashes").GetInt64());
        Assert.Equal(0, report.GetProperty("checkerErrors").GetInt64());
        Assert.True(report.GetProperty("checkerCalls").GetInt64() > 100, result.ToString());
        Assert.True(report.GetProperty("executions").GetInt64() > 1000, result.ToString());
        Assert.True(report.GetProperty("ringsCorrupted").GetInt64() > 0, $"no ring was corrupted: {result}");
        Assert.True(report.GetProperty("kernelHangUps").GetInt64() > 0, $"the kernel never hung up on a fuzzer: {result}");
        Assert.True(report.GetProperty("backToBaseline").GetBoolean(), result.ToString());
        var before = report.GetProperty("before");
        var after = report.GetProperty("after");
        Assert.Equal(before.GetProperty("objects").GetInt32(), after.GetProperty("objects").GetInt32());
        Assert.Equal(before.GetProperty("handles").GetInt32(), after.GetProperty("handles").GetInt32());
        // KbQueryKernelMemory answered, both times.
        foreach (var snapshot in new[] { before, after })
        {
            Assert.True(snapshot.GetProperty("residentBytes").GetInt64() > 1024 * 1024, result.ToString());
            Assert.True(snapshot.GetProperty("managedHeapBytes").GetInt64() > 0, result.ToString());
        }

        // And the kernel still serves a newcomer, as the same process.
        Assert.False(kernel.Process.Process.HasExited);
        using var gate = GateClient.Connect(kernel.Instance, autoStart: false);
        Assert.Equal(kernel.Process.Id, KernelControl.QueryState(gate).KernelProcessId);
        var memory = KernelMemory.Query(gate);
        Assert.True(memory.ResidentBytes > 0 && memory.ManagedHeapBytes > 0 && memory.AllocatedBytes >= memory.ManagedHeapBytes);
    }

    [Theory]
    [InlineData("--duration", "banana")]
    [InlineData("--duration", "-5s")]
    [InlineData("--workers", "0")]
    public void A_bad_setting_is_refused_before_anything_runs(string option, string value)
    {
        var result = Kbridge.Run("fuzz", "--instance", KernelProcess.NewInstanceName("fuzz-bad"), option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(option, result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("60", 60)]
    [InlineData("5s", 5)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    public void Durations_read_as_written(string text, double seconds)
    {
        Assert.True(KernelBridge.Cli.Commands.FuzzCommand.TryParseDuration(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds);
    }

    /// <summary>The live fuzzer never sends the services a privileged client may rightly use to stop the kernel or change it for others.</summary>
    [Fact]
    public void Forbidden_services_are_rewritten_to_an_unknown_number_wherever_the_kernel_would_read_them()
    {
        var shutdown = Frame(Syscall.KbShutdownKernel, new KbShutdownKernelRequest(0));
        var unload = Frame(Syscall.NtUnloadDriver, new NtUnloadDriverRequest(0, 0));
        var query = Frame(Syscall.KbQueryKernelState, new KbQueryKernelStateRequest(0));
        byte[] stream = [.. query, .. shutdown, .. unload];
        KernelBridge.Cli.Fuzz.ServiceFilter.Sanitize(stream);
        Assert.Equal((ushort)Syscall.KbQueryKernelState, BitConverter.ToUInt16(stream, 6));
        Assert.Equal(KernelBridge.Cli.Fuzz.ServiceFilter.Unknown, BitConverter.ToUInt16(stream, query.Length + 6));
        Assert.Equal(KernelBridge.Cli.Fuzz.ServiceFilter.Unknown, BitConverter.ToUInt16(stream, query.Length + shutdown.Length + 6));
        Assert.DoesNotContain(Syscall.KbShutdownKernel, KernelBridge.Cli.Fuzz.ServiceFilter.Allowed);
        Assert.Contains(Syscall.NtCreateEvent, KernelBridge.Cli.Fuzz.ServiceFilter.Allowed);
    }

    private static byte[] Frame<T>(Syscall number, T request) where T : unmanaged
    {
        var body = KbTest.Bytes(request);
        var frame = new byte[FrameHeader.Size + body.Length];
        System.Runtime.InteropServices.MemoryMarshal.Write(frame, new FrameHeader((uint)frame.Length, FrameKind.Call, (ushort)number, 1, 1));
        body.CopyTo(frame, FrameHeader.Size);
        return frame;
    }
}
