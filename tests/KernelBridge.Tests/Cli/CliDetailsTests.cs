using System.Text.Json;
using KernelBridge.Cli.Commands;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// Regressions from trying kbridge as a newcomer: status and stop with a socket a dead kernel left,
/// `--instance ''`, parse errors that named .NET types, `driver list --help` promising an object
/// for an array, `demo --help` without its last steps, and an uptime that lost its days.
/// </summary>
public sealed class CliDetailsTests
{
    /// <summary>Kills (SIGKILL) a kernel of <paramref name="instance"/>: its socket file stays, and nothing listens on it.</summary>
    private static void LeaveStaleSocket(string instance, InstanceDirectory directory)
    {
        var kernel = KernelProcess.Start(instance, "--persistent");
        kernel.Process.Dispose(); // SIGKILL, by pid
        Assert.True(File.Exists(directory.SocketPath), "the killed kernel's socket is gone");
    }

    [Fact]
    public void Status_with_a_socket_a_dead_kernel_left_says_not_running_in_json_and_text_with_code_3()
    {
        var instance = KernelProcess.NewInstanceName("stale-status");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            LeaveStaleSocket(instance, directory);
            var json = Kbridge.Run("kernel", "status", "--json", "--instance", instance);
            Assert.True(json.ExitCode == 3, json.ToString());
            var root = json.Json();
            Assert.Equal(instance, root.GetProperty("instance").GetString());
            Assert.False(root.GetProperty("running").GetBoolean());
            Assert.True(root.GetProperty("staleSocket").GetBoolean());

            var text = Kbridge.Run("kernel", "status", "--instance", instance);
            Assert.True(text.ExitCode == 3, text.ToString());
            Assert.Contains($"no kernel is running for instance '{instance}' (a kernel that died left {directory.SocketPath} behind", text.Stdout, StringComparison.Ordinal);
            Assert.Equal("", text.Stderr);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void Stop_with_nothing_running_exits_0_with_or_without_a_socket_a_dead_kernel_left()
    {
        var instance = KernelProcess.NewInstanceName("stale-stop");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            LeaveStaleSocket(instance, directory);
            var stale = Kbridge.Run("kernel", "stop", "--instance", instance);
            Assert.True(stale.ExitCode == 0, stale.ToString());
            Assert.Contains($"no kernel is running for instance '{instance}'", stale.Stdout, StringComparison.Ordinal);

            File.Delete(directory.SocketPath);
            var none = Kbridge.Run("kernel", "stop", "--instance", instance);
            Assert.True(none.ExitCode == 0, none.ToString());
            Assert.Contains($"no kernel is running for instance '{instance}'", none.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Theory]
    [InlineData("kernel", "status")]
    [InlineData("obj")]
    [InlineData("kernel")]
    public void An_empty_instance_name_is_refused_rather_than_taken_for_the_default(params string[] command)
    {
        var result = Kbridge.Run([.. command, "--instance", ""]);
        CliAssert.Refused(result, 2, "--instance '' is not an instance name: a name is 1 to 64 letters");
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void A_bad_instance_name_says_so_in_a_sentence_naming_where_it_came_from()
    {
        CliAssert.Refused(Kbridge.Run("kernel", "status", "--instance", ".hidden"), 2, "--instance '.hidden' is not an instance name");
        var fromEnvironment = Kbridge.RunWith(null, new Dictionary<string, string?> { [InstanceDirectory.InstanceVariable] = "../escape" }, "kernel", "status");
        CliAssert.Refused(fromEnvironment, 2, "KERNELBRIDGE_INSTANCE='../escape' (from the environment) is not an instance name");
    }

    [Theory]
    [InlineData("--idle-timeout 'soon' is not an idle timeout", "kernel", "--idle-timeout", "soon")]
    [InlineData("--out-size must be a whole number, from 0 to", "ioctl", "Echo", "0x222000", "--out-size", "-1")]
    [InlineData("--out-size needs a value", "ioctl", "Echo", "0x222000", "--out-size")]
    [InlineData("--access must be r, w or rw, not 'q'", "ioctl", "Echo", "0x222000", "--access", "q")]
    [InlineData("`kbridge ioctl` needs CODE: the control code", "ioctl", "Echo")]
    [InlineData("`kbridge driver load` needs PATH", "driver", "load")]
    [InlineData("`kbridge driver` needs a command: load, unload, list", "driver")]
    [InlineData("--method must be buffered, in-direct, out-direct or neither, not 'sideways'", "ctl-code", "--type", "0x22", "--function", "0x800", "--method", "sideways")]
    [InlineData("Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("--chart needs a value", "bench", "--chart")]
    [InlineData("the directory /nonexistent-kbridge-dir does not exist", "bench", "--chart", "/nonexistent-kbridge-dir/chart.png")]
    [InlineData("--scaling-clients must be whole numbers from 1 to 256, separated by commas, not '0'", "bench", "--scaling", "--scaling-clients", "0")]
    [InlineData("--scaling-clients must be whole numbers from 1 to 256, separated by commas, not '1,x'", "bench", "--scaling", "--scaling-clients", "1,x")]
    [InlineData("--scaling-seconds must be a whole number, from 1 to 600, not '0'", "bench", "--scaling", "--scaling-seconds", "0")]
    [InlineData("--idle-seconds must be a whole number, from 1 to 600, not 'soon'", "bench", "--scaling", "--idle-seconds", "soon")]
    [InlineData("Unrecognized command or argument '--batches'", "bench", "--batches", "3")]
    public void A_command_line_that_does_not_parse_is_one_sentence_on_stderr_exit_2_and_nothing_else(string expected, params string[] arguments)
    {
        var instance = KernelProcess.NewInstanceName("parse");
        var directory = InstanceDirectory.Open(instance, create: false);
        try
        {
            var result = Kbridge.Run(["--instance", instance, .. arguments]);
            CliAssert.Refused(result, 2, expected);
            Assert.True(result.Stdout.Length == 0, $"a refused command line printed on stdout:{Environment.NewLine}{result}");
            Assert.False(Directory.Exists(directory.Path), "a refused command line created the instance (or started a kernel)");
        }
        finally
        {
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void Driver_list_help_and_output_agree_on_a_json_array()
    {
        var help = Kbridge.Run("driver", "list", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--json", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("a JSON array", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("JSON object", help.Stdout, StringComparison.Ordinal);

        var instance = KernelProcess.NewInstanceName("drivers");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        var list = Kbridge.Run("driver", "list", "--json", "--instance", instance);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(JsonValueKind.Array, list.Json().ValueKind);
    }

    [Fact]
    public void Demo_help_names_all_sixteen_steps_including_the_inverted_call_and_shared_memory()
    {
        var help = Kbridge.Run("demo", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        foreach (var part in new[] { "21 steps", "a bad path", "inverted call", "IRP-based", "CancelIoEx", "event-based", "a section", "shared channel", "scanner", "token", "DACL" })
            Assert.Contains(part, help.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, 0, 0, "00:00:00")]
    [InlineData(0, 2, 3, 4, "02:03:04")]
    [InlineData(1, 2, 3, 4, "1d 02:03:04")]
    [InlineData(40, 23, 59, 59, "40d 23:59:59")]
    public void Status_shows_the_days_of_an_uptime_of_a_day_or_more(int days, int hours, int minutes, int seconds, string expected) =>
        Assert.Equal(expected, KernelStatusCommand.FormatUptime(new TimeSpan(days, hours, minutes, seconds)));
}
