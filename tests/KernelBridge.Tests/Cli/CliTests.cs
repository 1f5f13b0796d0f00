using System.Text.Json;
using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// kbridge run as a process against the class's own kernel (built-in drivers only), through
/// --instance: ctl-code, ioctl, obj, demo and bad arguments.
/// </summary>
public sealed class CliTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private CliResult Run(params string[] arguments) => Kbridge.Run([.. arguments, "--instance", fixture.Instance]);

    private static IEnumerable<string> Keys(JsonElement element) => element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);

    [Fact]
    public void Ctl_code_decodes_a_code()
    {
        var result = Kbridge.Run("ctl-code", "0x22A010");
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("code:        0x0022A010", lines);
        Assert.Contains(lines, l => l.StartsWith("device type: 0x22", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("function:    0x804", StringComparison.Ordinal));
        Assert.Contains("method:      METHOD_BUFFERED", lines);
        Assert.Contains("access:      FILE_WRITE_ACCESS", lines);
        Assert.Contains("CTL_CODE(0x22, 0x804, METHOD_BUFFERED, FILE_WRITE_ACCESS)", lines);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void Ctl_code_decodes_decimal_and_as_json()
    {
        var result = Kbridge.Run("ctl-code", "2269200", "--json"); // 0x22A010
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(["access", "code", "deviceType", "function", "method"], Keys(json));
        Assert.Equal("0x0022A010", json.GetProperty("code").GetString());
        Assert.Equal("0x22", json.GetProperty("deviceType").GetString());
        Assert.Equal("0x804", json.GetProperty("function").GetString());
        Assert.Equal("METHOD_BUFFERED", json.GetProperty("method").GetString());
        Assert.Equal("FILE_WRITE_ACCESS", json.GetProperty("access").GetString());
    }

    [Fact]
    public void Ctl_code_encodes_from_parts()
    {
        var result = Kbridge.Run("ctl-code", "--type", "0x22", "--function", "0x804", "--method", "buffered", "--access", "write");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("0x0022A010", result.Stdout, StringComparison.Ordinal);

        var neither = Kbridge.Run("ctl-code", "--type", "0x22", "--function", "0x800", "--method", "neither", "--access", "read-write", "--json");
        Assert.True(neither.ExitCode == 0, neither.ToString());
        var json = neither.Json();
        Assert.Equal("0x0022E003", json.GetProperty("code").GetString());
        Assert.Equal("METHOD_NEITHER", json.GetProperty("method").GetString());
        Assert.Equal("FILE_READ_ACCESS | FILE_WRITE_ACCESS", json.GetProperty("access").GetString());
    }

    [Fact]
    public void Ioctl_json_reports_a_buffer_overflow_with_its_data()
    {
        var result = Run("ioctl", "Echo", "0x222000", "--in", "6869", "--out-size", "1", "--json");
        var json = result.Json();
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.Equal(["bytes", "output", "status", "statusName", "win32"], Keys(json));
        Assert.Equal("0x80000005", json.GetProperty("status").GetString());
        Assert.Equal("STATUS_BUFFER_OVERFLOW", json.GetProperty("statusName").GetString());
        Assert.Equal(234, json.GetProperty("win32").GetInt32());
        Assert.Equal(1, json.GetProperty("bytes").GetInt64());
        Assert.Equal("68", json.GetProperty("output").GetString());
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void Ioctl_text_shows_status_win32_bytes_and_output()
    {
        var result = Run("ioctl", @"\\.\Echo", "0x222000", "--in", "68 69");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("STATUS_SUCCESS (0x00000000)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("bytes:    2", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("output:   6869", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("as text:  hi", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Ioctl_to_a_device_that_does_not_exist_reports_STATUS_OBJECT_NAME_NOT_FOUND()
    {
        var result = Run("ioctl", "NoSuchDevice", "0x222000", "--json");
        Assert.NotEqual(0, result.ExitCode);
        var json = result.Json();
        Assert.Equal("0xC0000034", json.GetProperty("status").GetString());
        Assert.Equal("STATUS_OBJECT_NAME_NOT_FOUND", json.GetProperty("statusName").GetString());
        Assert.Equal(2, json.GetProperty("win32").GetInt32());
        Assert.Equal(0, json.GetProperty("bytes").GetInt64());
        Assert.Equal("", json.GetProperty("output").GetString());

        var text = Run("ioctl", "NoSuchDevice", "0x222000");
        Assert.NotEqual(0, text.ExitCode);
        Assert.Contains(@"opening \\.\NoSuchDevice failed", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Ioctl_needing_write_access_on_a_read_only_handle_reports_STATUS_ACCESS_DENIED()
    {
        var result = Run("ioctl", "Echo", "0x22A010", "--access", "r", "--json");
        Assert.NotEqual(0, result.ExitCode);
        var json = result.Json();
        Assert.Equal("0xC0000022", json.GetProperty("status").GetString());
        Assert.Equal("STATUS_ACCESS_DENIED", json.GetProperty("statusName").GetString());
        Assert.Equal(5, json.GetProperty("win32").GetInt32());
        Assert.Equal(0, json.GetProperty("bytes").GetInt64());

        // The same code with write access goes through.
        var allowed = Run("ioctl", "Echo", "0x22A010", "--access", "w", "--in", "3e", "--json");
        Assert.Equal("0x00000000", allowed.Json().GetProperty("status").GetString());
    }

    [Fact]
    public void Obj_lists_the_dos_devices_with_link_targets()
    {
        var result = Run("obj", @"\??", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(@"\??", json.GetProperty("directory").GetString());
        var entries = json.GetProperty("entries").EnumerateArray().ToList();
        var echo = Assert.Single(entries, e => e.GetProperty("name").GetString() == "Echo");
        Assert.Equal("SymbolicLink", echo.GetProperty("type").GetString());
        Assert.Equal(@"\Device\Echo", echo.GetProperty("target").GetString());
        Assert.Contains(entries, e => e.GetProperty("name").GetString() == "Nul" || e.GetProperty("name").GetString() == "NUL"
            || e.GetProperty("target").GetString() == @"\Device\Null");
    }

    [Fact]
    public void Obj_lists_the_root_and_device_directories()
    {
        var root = Run("obj", "--json").Json();
        var names = root.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        foreach (var expected in new[] { "Device", "Driver", "??", "ObjectTypes" }) Assert.Contains(expected, names);

        var devices = Run("obj", @"\Device", "--json").Json();
        var echo = Assert.Single(devices.GetProperty("entries").EnumerateArray(), e => e.GetProperty("name").GetString() == "Echo");
        Assert.Equal("Device", echo.GetProperty("type").GetString());

        var missing = Run("obj", @"\NoSuchDirectory");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("STATUS_OBJECT_NAME_NOT_FOUND", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_json_runs_the_tour()
    {
        var result = Run("demo", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(fixture.Instance, json.GetProperty("instance").GetString());
        Assert.Equal(fixture.Kernel.Process.Id, json.GetProperty("kernelPid").GetInt32());
        Assert.False(json.GetProperty("kernelStopped").GetBoolean(), "the tour stopped a kernel it did not start");
        var steps = json.GetProperty("steps").EnumerateArray().ToList();
        Assert.True(steps.Count >= 8, $"only {steps.Count} steps");
        var statuses = steps.Select(s => (Status: s.GetProperty("status").GetString(), Name: s.GetProperty("statusName").GetString())).ToList();
        Assert.Contains(("0x80000005", "STATUS_BUFFER_OVERFLOW"), statuses);
        Assert.Contains(("0xC0000022", "STATUS_ACCESS_DENIED"), statuses);
        Assert.Contains(("0xC0000034", "STATUS_OBJECT_NAME_NOT_FOUND"), statuses);
        var overflow = steps.Single(s => s.GetProperty("statusName").GetString() == "STATUS_BUFFER_OVERFLOW");
        Assert.Equal(234, overflow.GetProperty("win32").GetInt32());
        Assert.Equal(10, overflow.GetProperty("bytes").GetInt64());
        Assert.Equal("6162636465666768696a", overflow.GetProperty("output").GetString());
        foreach (var step in steps)
            Assert.Equal(["bytes", "call", "explanation", "output", "status", "statusName", "step", "win32"], Keys(step));
        // The third door: the section's second view read what the first wrote, and the channel delivered every record.
        var section = steps.Single(s => s.GetProperty("step").GetString() == "A section and two views");
        Assert.Equal(Convert.ToHexString("written through one view, read through another"u8).ToLowerInvariant(), section.GetProperty("output").GetString());
        var channels = steps.Where(s => s.GetProperty("step").GetString()!.StartsWith("A shared channel", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, channels.Count);
        Assert.All(channels, c => Assert.Equal("STATUS_SUCCESS", c.GetProperty("statusName").GetString()));
        Assert.Equal([200_000L * 64, 4_000L * 65_536], channels.Select(c => c.GetProperty("bytes").GetInt64()));
        // Security: this process's token as the kernel made it, and a deny ACE deciding before the allow.
        var whoAmI = steps.Single(s => s.GetProperty("step").GetString() == "Who am I");
        Assert.Contains($"S-1-22-1-{Platform.Interop.Libc.EffectiveUserId()}", whoAmI.GetProperty("explanation").GetString(), StringComparison.Ordinal);
        var dacl = steps.Single(s => s.GetProperty("step").GetString() == "A DACL says no");
        Assert.Equal("STATUS_ACCESS_DENIED", dacl.GetProperty("statusName").GetString());
    }

    [Theory]
    [InlineData("ctl-code", "nonsense")]
    [InlineData("ctl-code")]
    [InlineData("ctl-code", "--type", "0x10000", "--function", "0x800")]
    [InlineData("ctl-code", "--type", "0x22", "--function", "0x1000")]
    [InlineData("ctl-code", "--type", "0x22")]
    [InlineData("ctl-code", "--type", "0x22", "--function", "0x800", "--method", "sideways")]
    [InlineData("ctl-code", "--type", "0x22", "--function", "0x800", "--access", "everything")]
    [InlineData("ioctl", "Echo", "zz")]
    [InlineData("ioctl", "Echo")]
    [InlineData("ioctl", "Echo", "0x222000", "--in", "xyz")]
    [InlineData("ioctl", "Echo", "0x222000", "--access", "q")]
    [InlineData("ioctl", "Echo", "0x222000", "--out-size", "-1")]
    [InlineData("driver", "load")]
    [InlineData("frobnicate")]
    [InlineData("kernel", "--idle-timeout", "soon")]
    public void Bad_arguments_exit_2_with_a_message(params string[] arguments)
    {
        var result = Run(arguments);
        CliAssert.Refused(result, 2, "kbridge: ");
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_instance_name_is_refused_with_a_message()
    {
        var result = Kbridge.Run("kernel", "status", "--instance", "../escape");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("../escape", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_kernel_the_cli_talks_to_is_the_fixtures_and_the_cli_leaves_no_clients_behind()
    {
        Run("ioctl", "Echo", "0x222000", "--in", "00");
        Assert.True(Infrastructure.KbTest.Eventually(() => KernelBridge.Client.KernelControl.QueryState(fixture.Gate).Clients == 1),
            "a kbridge process's connection outlived it");
        Assert.True(Posix.IsAlive(fixture.Kernel.Process.Id));
    }
}
