using System.Text.Json;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// `kbridge stats` shows what the kernel holds and each process's usage against its quotas;
/// `--json` prints the same as one JSON object for scripts (the kill-loop test compares its counts
/// with a baseline). It never starts a kernel.
/// </summary>
public sealed class StatsCommandTests
{
    [Fact]
    public void Stats_json_reports_the_kernels_counts_the_limits_and_each_processs_usage()
    {
        using var kernel = QuotaTest.StartKernel("q-stats", "--max-handles", "77", "--max-posted-messages", "123", "--max-mapped-bytes", "3M");
        using var holder = QuotaTest.Connect(kernel);
        for (var i = 0; i < 5; i++) Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(holder, out _));
        var state = KernelControl.QueryState(holder);

        var result = Kbridge.Run("--instance", kernel.Instance, "stats", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.True(json.GetProperty("running").GetBoolean());
        Assert.Equal(kernel.Process.Id, json.GetProperty("pid").GetInt32());
        Assert.Equal(state.Handles, json.GetProperty("handles").GetInt32());
        // The stats command is a client too: its own process, thread and token objects count.
        Assert.Equal(state.Objects + 3, json.GetProperty("objects").GetInt32());
        Assert.Equal(0, json.GetProperty("pendingIrps").GetInt32());
        Assert.Equal(2, json.GetProperty("clients").GetInt32());
        foreach (var name in (string[])["views", "viewBytes", "sections", "sectionBytes", "kernelRssBytes", "gcHeapBytes"])
            Assert.True(json.GetProperty(name).ValueKind == JsonValueKind.Number, $"{name} is missing");
        Assert.True(json.GetProperty("kernelRssBytes").GetInt64() > 1 << 20, "the kernel's resident size is not plausible");
        Assert.True(json.GetProperty("gcHeapBytes").GetInt64() > 0);

        var limits = json.GetProperty("limits");
        Assert.Equal(77, limits.GetProperty("handles").GetInt32());
        Assert.Equal(123, limits.GetProperty("postedMessages").GetInt32());
        Assert.Equal(3L << 20, limits.GetProperty("mappedBytes").GetInt64());
        Assert.Equal(KernelBridge.Abi.Protocol.WireProtocol.MaxFrameLength, limits.GetProperty("frameBytes").GetInt32());

        var rows = json.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        var mine = Assert.Single(rows, r => r.GetProperty("pid").GetInt32() == Environment.ProcessId);
        Assert.Equal(5, mine.GetProperty("handles").GetInt32());
        Assert.False(mine.GetProperty("self").GetBoolean());
        var its = Assert.Single(rows, r => r.GetProperty("self").GetBoolean());
        Assert.Equal(0, its.GetProperty("handles").GetInt32());
        foreach (var name in (string[])["uid", "image", "pendingIrps", "completionPackets", "postedMessages", "portMessages", "views", "viewBytes"])
            Assert.True(mine.TryGetProperty(name, out _), $"{name} is missing from a process row");
    }

    [Fact]
    public void Stats_prints_a_table_of_usage_against_the_limits()
    {
        using var kernel = QuotaTest.StartKernel("q-stats-text", "--max-handles", "4321");
        using var holder = QuotaTest.Connect(kernel);
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(holder, out _));
        var result = Kbridge.Run("--instance", kernel.Instance, "stats");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"pid {kernel.Process.Id}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("4321", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Stdout, StringComparison.Ordinal);
        Assert.Contains("handles", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_without_a_kernel_says_so_and_starts_none()
    {
        var instance = KernelProcess.NewInstanceName("q-stats-none");
        var result = Kbridge.Run("--instance", instance, "stats", "--json");
        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Json().GetProperty("running").GetBoolean());
        Assert.False(File.Exists(Platform.InstanceDirectory.Open(instance, create: false).SocketPath), "stats started a kernel");
    }
}
