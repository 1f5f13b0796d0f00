using KernelBridge.Kernel;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// Regression: `--idle-timeout` / KBRIDGE_IDLE_TIMEOUT of NaN, Infinity or 1e12 printed a stack
/// trace; 1e7 started listening, then exited with code 2 and left kernel.pid behind, and with the
/// variable set every auto-start failed the same way. A value outside 0..30 days is now refused,
/// in one sentence naming where it came from, before anything starts.
/// </summary>
public sealed class IdleTimeoutTests
{
    /// <summary>The environment of a kbridge process, with the idle timeout set or unset and nothing else inherited that matters.</summary>
    private static Dictionary<string, string?> Environment(string? idleTimeout) => new()
    {
        ["KBRIDGE_IDLE_TIMEOUT"] = idleTimeout,
        [InstanceDirectory.InstanceVariable] = null,
    };

    private static void AssertNothingLeft(InstanceDirectory directory)
    {
        Assert.False(File.Exists(directory.PidPath), "a refused kernel left kernel.pid behind");
        Assert.False(File.Exists(directory.SocketPath), "a refused kernel left kernel.sock behind");
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e12")]
    [InlineData("1e7")]
    [InlineData("2592000.5")]
    [InlineData("-1")]
    [InlineData("soon")]
    public void An_idle_timeout_out_of_range_is_refused_before_the_kernel_starts(string value)
    {
        var instance = KernelProcess.NewInstanceName("idle-bad");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            var result = Kbridge.RunWith(null, Environment(null), "kernel", "--instance", instance, "--idle-timeout", value);
            CliAssert.Refused(result, 2, $"--idle-timeout '{value}' is not an idle timeout: give a number of seconds from 0 to 2592000");
            Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
            AssertNothingLeft(directory);
        }
        finally
        {
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e7")]
    [InlineData("-5")]
    public void A_bad_KBRIDGE_IDLE_TIMEOUT_is_refused_naming_the_variable(string value)
    {
        var instance = KernelProcess.NewInstanceName("idle-env");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            var result = Kbridge.RunWith(null, Environment(value), "kernel", "--instance", instance);
            CliAssert.Refused(result, 2, $"KBRIDGE_IDLE_TIMEOUT='{value}' (from the environment) is not an idle timeout");
            AssertNothingLeft(directory);
        }
        finally
        {
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void A_client_whose_environment_has_a_bad_KBRIDGE_IDLE_TIMEOUT_is_told_why_its_kernel_did_not_start_and_nothing_is_left()
    {
        var instance = KernelProcess.NewInstanceName("idle-auto");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            // The auto-started kernel inherits the client's environment.
            var refused = Kbridge.RunWith(null, Environment("1e7"), "obj", "--instance", instance);
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Contains("KBRIDGE_IDLE_TIMEOUT='1e7' (from the environment) is not an idle timeout", refused.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);
            AssertNothingLeft(directory);

            // Nothing stale stands in the way of the next start.
            var fine = Kbridge.RunWith(null, Environment(null), "obj", "--instance", instance);
            Assert.True(fine.ExitCode == 0, fine.ToString());
        }
        finally
        {
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void The_option_wins_over_the_variable_and_the_largest_value_is_accepted()
    {
        var instance = KernelProcess.NewInstanceName("idle-max");
        using var kernel = ChildProcess.StartDll("kbridge.dll", new Dictionary<string, string> { ["KBRIDGE_IDLE_TIMEOUT"] = "NaN" },
            "kernel", "--instance", instance, "--idle-timeout", "2592000");
        try
        {
            Assert.True(kernel.WaitForLine("listening on", TimeSpan.FromSeconds(30)), $"the kernel did not start:{System.Environment.NewLine}{kernel.Output}");
            var status = Kbridge.Run("kernel", "status", "--json", "--instance", instance);
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Equal(kernel.Id, status.Json().GetProperty("pid").GetInt32());
        }
        finally
        {
            Kbridge.Run("kernel", "stop", "--instance", instance);
            Assert.True(kernel.WaitForExit(TimeSpan.FromSeconds(15)), "the kernel did not stop");
            Posix.DeleteInstanceDirectory(InstanceDirectory.Open(instance, create: true).Path);
        }
    }

    [Fact]
    public async Task KernelHost_refuses_an_idle_timeout_out_of_range_before_it_creates_anything()
    {
        var instance = KernelProcess.NewInstanceName("idle-host");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            foreach (var seconds in new[] { 1e7, -1 })
            {
                var options = new KernelOptions { Instance = instance, IdleTimeout = TimeSpan.FromSeconds(seconds) };
                var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => KernelHost.RunAsync(options, NullLoggerFactory.Instance, CancellationToken.None));
                Assert.Contains("idle timeout", e.Message, StringComparison.Ordinal);
                AssertNothingLeft(directory);
                Assert.False(File.Exists(directory.LockPath), "the refused kernel took the instance lock");
            }
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }
}
