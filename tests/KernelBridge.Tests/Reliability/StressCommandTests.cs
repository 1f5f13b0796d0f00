using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Reliability;

/// <summary>`kbridge stress` against a kernel of the test's own: a short run reports real work, no errors and no leaks; bad sizes are refused.</summary>
public sealed class StressCommandTests
{
    [Fact]
    public void A_short_stress_run_does_every_operation_and_reports_no_errors_and_no_leaks_in_json()
    {
        var instance = KernelProcess.NewInstanceName("stress");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        var result = Kbridge.RunWithin(TimeSpan.FromMinutes(3), "stress", "--processes", "2", "--threads", "2", "--duration", "3s", "--json", "--instance", instance);
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json();
        Assert.True(report.GetProperty("passed").GetBoolean(), result.ToString());
        Assert.Equal(2, report.GetProperty("processes").GetInt32());
        Assert.Equal(0, report.GetProperty("errors").GetInt64());
        Assert.Equal(0, report.GetProperty("workersLost").GetInt32());
        foreach (var count in new[] { "objects", "handles", "pendingIrps", "views" })
            Assert.Equal(0, report.GetProperty("leaked").GetProperty(count).GetInt32());
        Assert.True(report.GetProperty("p99Nanoseconds").GetInt64() >= report.GetProperty("p50Nanoseconds").GetInt64());
        Assert.True(report.GetProperty("kernelResidentBefore").GetInt64() > 0, "the kernel's RSS was not read");
        var operations = report.GetProperty("perOperation").EnumerateArray().ToList();
        Assert.Equal(7, operations.Count);
        // Every door was used (the port may be busy for all of one short run's attempts, but it was tried).
        foreach (var operation in operations)
            Assert.True(operation.GetProperty("done").GetInt64() + operation.GetProperty("busy").GetInt64() > 0, $"{operation} was never done");
        Assert.Equal(operations.Sum(o => o.GetProperty("done").GetInt64()), report.GetProperty("operations").GetInt64());
    }

    [Theory]
    [InlineData("--duration", "soon")]
    [InlineData("--duration", "-5s")]
    [InlineData("--processes", "0")]
    [InlineData("--threads", "5000")]
    public void Bad_sizes_are_refused_before_anything_starts(string option, string value)
    {
        var result = Kbridge.Run("stress", option, value, "--instance", KernelProcess.NewInstanceName("stress-bad"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
    }
}
