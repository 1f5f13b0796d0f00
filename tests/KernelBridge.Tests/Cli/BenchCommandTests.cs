using System.Text.Json;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// kbridge bench run as a process on a kernel of the class's own: the quick run's JSON has every
/// documented key with figures that hang together, the chart is a PNG, --scaling reports its client
/// counts and an idle figure, and the peers it starts are gone afterwards. (Bad options: CliDetailsTests.)
/// No assertion is about speed: these machines are shared, and only the shape of the figures is checked.
/// </summary>
public sealed class BenchCommandTests(BenchFixture fixture) : IClassFixture<BenchFixture>
{
    /// <summary>Every measurement of a run, with its baseline (null for a baseline) as docs/cli.md lists them.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Measurements = new Dictionary<string, string?>
    {
        ["getppid"] = null,
        ["ioctl_fionread"] = null,
        ["unix_socket_pingpong"] = null,
        ["shm_polling_pingpong"] = null,
        ["futex_pingpong"] = null,
        ["memcpy_1mib"] = null,
        ["shm_ring_64b"] = null,
        ["shm_ring_64b_gbps"] = null,
        ["shm_ring_64kib"] = null,
        ["shm_ring_64kib_gbps"] = null,
        ["null_syscall"] = "getppid",
        ["ioctl"] = "ioctl_fionread",
        ["ioctl_socket_gate"] = "unix_socket_pingpong",
        ["ioctl_no_spin"] = "futex_pingpong",
        ["ioctl_async_32"] = "ioctl_fionread",
        ["ioctl_async_32_inline"] = "ioctl_fionread",
        ["event_cross_process"] = "unix_socket_pingpong",
        ["wait_signalled"] = "getppid",
        ["sendmessage_xproc"] = "ioctl",
        ["postmessage_getmessage"] = "ioctl",
        ["mmap_munmap_1mib"] = null,
        ["ramdisk_read_1mib_pooled"] = "memcpy_1mib",
        ["ramdisk_read_1mib"] = "memcpy_1mib",
        ["view_map_unmap_1mib"] = "mmap_munmap_1mib",
        ["driver_channel_64b"] = "shm_ring_64b",
        ["driver_channel_64kib"] = "shm_ring_64kib",
        ["channel_64b"] = "shm_ring_64b",
        ["channel_64b_gbps"] = "shm_ring_64b_gbps",
        ["channel_64kib"] = "shm_ring_64kib",
        ["channel_64kib_gbps"] = "shm_ring_64kib_gbps",
        ["flt_send_reply"] = "ioctl",
        ["flt_getmessage_iocp"] = "ioctl",
    };

    /// <summary>Every comparison of a run: its key, and the measurements whose medians it divides (numerator, denominator).</summary>
    public static readonly IReadOnlyDictionary<string, (string Numerator, string Denominator)> Comparisons = new Dictionary<string, (string, string)>
    {
        ["shm_vs_socket_gate"] = ("ioctl_socket_gate", "ioctl"),
    };

    private static readonly string[] Rates =
    [
        "ioctl_async_32", "ioctl_async_32_inline",
        "shm_ring_64b", "shm_ring_64b_gbps", "shm_ring_64kib", "shm_ring_64kib_gbps",
        "channel_64b", "channel_64b_gbps", "channel_64kib", "channel_64kib_gbps",
        "driver_channel_64b", "driver_channel_64kib", "postmessage_getmessage",
        "flt_getmessage_iocp",
    ];

    private JsonElement QuickJson()
    {
        var result = fixture.QuickRun;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json();
    }

    [Fact]
    public void Quick_json_is_one_object_with_a_key_per_measurement_and_each_key_its_documented_fields()
    {
        var json = QuickJson();
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.Equal(Measurements.Keys.Concat(Comparisons.Keys).Order(StringComparer.Ordinal), json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (key, baseline) in Measurements)
        {
            var measurement = json.GetProperty(key);
            var fields = measurement.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("baseline", fields);
            Assert.Contains("ratio", fields);
            Assert.Contains("samples", fields);
            if (Rates.Contains(key))
            {
                Assert.Contains("per_s", fields);
                Assert.DoesNotContain("median_ns", fields);
            }
            else
            {
                Assert.Contains("median_ns", fields);
                Assert.Contains("p99_ns", fields);
                Assert.DoesNotContain("per_s", fields);
                Assert.Contains("client_bytes_per_op", fields);
            }
            if (baseline is null)
            {
                Assert.Equal(JsonValueKind.Null, measurement.GetProperty("baseline").ValueKind);
                Assert.Equal(JsonValueKind.Null, measurement.GetProperty("ratio").ValueKind);
            }
            else
            {
                Assert.Equal(baseline, measurement.GetProperty("baseline").GetString());
                Assert.Contains("kernel_bytes_per_op", fields);
            }
        }
    }

    [Fact]
    public void Quick_json_figures_are_positive_p99_is_at_least_the_median_and_each_ratio_is_the_value_over_its_baseline()
    {
        var json = QuickJson();
        foreach (var (key, baseline) in Measurements)
        {
            var measurement = json.GetProperty(key);
            Assert.True(measurement.GetProperty("samples").GetInt64() > 0, $"{key}: no samples: {measurement}");
            if (measurement.TryGetProperty("median_ns", out var median))
            {
                Assert.True(median.GetDouble() > 0, $"{key}: median {median}");
                Assert.True(measurement.GetProperty("p99_ns").GetDouble() >= median.GetDouble(), $"{key}: p99 below the median: {measurement}");
            }
            else Assert.True(measurement.GetProperty("per_s").GetDouble() > 0, $"{key}: rate {measurement}");
            if (measurement.TryGetProperty("client_bytes_per_op", out var client)) Assert.True(client.GetDouble() >= 0, $"{key}: {measurement}");
            if (baseline is null) continue;

            var ratio = measurement.GetProperty("ratio").GetDouble();
            var expected = Value(measurement) / ValueInUnitOf(json.GetProperty(baseline), measurement);
            Assert.True(ratio > 0, $"{key}: ratio {ratio}");
            Assert.True(Math.Abs(ratio - expected) <= 0.01 * expected, $"{key}: ratio {ratio}, but value / baseline value is {expected}: {measurement} against {json.GetProperty(baseline)}");
        }
    }

    [Fact]
    public void Quick_json_comparisons_name_their_two_measurements_and_their_ratio_is_the_one_median_over_the_other()
    {
        var json = QuickJson();
        foreach (var (key, (numerator, denominator)) in Comparisons)
        {
            var comparison = json.GetProperty(key);
            Assert.Equal(["denominator", "numerator", "ratio", "target_at_least"], comparison.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(numerator, comparison.GetProperty("numerator").GetString());
            Assert.Equal(denominator, comparison.GetProperty("denominator").GetString());
            Assert.True(comparison.GetProperty("target_at_least").GetDouble() > 0, comparison.ToString());
            var ratio = comparison.GetProperty("ratio").GetDouble();
            var expected = json.GetProperty(numerator).GetProperty("median_ns").GetDouble() / json.GetProperty(denominator).GetProperty("median_ns").GetDouble();
            Assert.True(Math.Abs(ratio - expected) <= 0.01 * expected, $"{key}: ratio {ratio}, but the medians give {expected}");
        }
    }

    /// <summary>The figure a ratio compares: the median, or the rate.</summary>
    private static double Value(JsonElement measurement) =>
        measurement.TryGetProperty("median_ns", out var median) ? median.GetDouble() : measurement.GetProperty("per_s").GetDouble();

    /// <summary>A baseline's figure in a measurement's unit: a median turned into a rate for a rate.</summary>
    private static double ValueInUnitOf(JsonElement baseline, JsonElement measurement)
    {
        var baselineIsRate = baseline.TryGetProperty("per_s", out var rate);
        var measurementIsRate = measurement.TryGetProperty("per_s", out _);
        if (baselineIsRate == measurementIsRate) return Value(baseline);
        return measurementIsRate ? 1e9 / baseline.GetProperty("median_ns").GetDouble() : 1e9 / rate.GetDouble();
    }

    [Fact]
    public void Chart_is_a_png_with_a_picture_in_it()
    {
        Assert.True(fixture.QuickRun.ExitCode == 0, fixture.QuickRun.ToString());
        var bytes = File.ReadAllBytes(fixture.ChartPath);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        Assert.True(bytes.Length > 10_000, $"a chart of {bytes.Length} bytes has nothing drawn in it");
        // IHDR: width and height, big-endian, after the signature, the chunk length and the type.
        var width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
        var height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
        Assert.True(width >= 600 && height >= 300, $"a chart of {width}×{height} pixels");
    }

    [Fact]
    public void Quick_run_leaves_no_peer_connected_and_nothing_on_stderr()
    {
        Assert.True(fixture.QuickRun.ExitCode == 0, fixture.QuickRun.ToString());
        Assert.Equal("", fixture.QuickRun.Stderr);
        Assert.True(Eventually(() => fixture.Clients == 1), $"peers still connected after the run: {fixture.Clients} clients");
    }

    [Fact]
    public void Scaling_reports_each_client_count_with_its_slowest_and_fastest_client_and_an_idle_kernel_figure()
    {
        var chart = Path.Combine(Path.GetTempPath(), $"kbridge-bench-scaling-{Guid.NewGuid():N}.png");
        try
        {
            var result = fixture.Run("bench", "--scaling", "--scaling-clients", "1,3", "--scaling-seconds", "1", "--idle-seconds", "2", "--json", "--chart", chart);
            Assert.True(result.ExitCode == 0, result.ToString());
            var json = result.Json();
            Assert.Equal(["clients_1", "clients_3", "idle_kernel_cpu"], json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            foreach (var clients in new[] { 1, 3 })
            {
                var point = json.GetProperty($"clients_{clients}");
                Assert.Equal(clients, point.GetProperty("clients").GetInt32());
                var (total, slowest, fastest) = (point.GetProperty("per_s").GetDouble(), point.GetProperty("min_client_per_s").GetDouble(),
                    point.GetProperty("max_client_per_s").GetDouble());
                Assert.True(slowest > 0 && slowest <= fastest, point.ToString());
                // The total is the clients' sum: between n × the slowest and n × the fastest.
                Assert.True(total >= clients * slowest * 0.999 && total <= clients * fastest * 1.001, point.ToString());
            }
            Assert.Equal(JsonValueKind.Null, json.GetProperty("clients_1").GetProperty("baseline").ValueKind);
            var three = json.GetProperty("clients_3");
            Assert.Equal("clients_1", three.GetProperty("baseline").GetString());
            var expected = three.GetProperty("per_s").GetDouble() / json.GetProperty("clients_1").GetProperty("per_s").GetDouble();
            Assert.True(Math.Abs(three.GetProperty("ratio").GetDouble() - expected) <= 0.01 * expected, three.ToString());

            var idle = json.GetProperty("idle_kernel_cpu");
            Assert.Equal(8, idle.GetProperty("clients").GetInt32());
            Assert.True(idle.GetProperty("seconds").GetDouble() >= 2, idle.ToString());
            var percent = idle.GetProperty("cpu_percent").GetDouble();
            Assert.True(percent >= 0 && percent <= 100 * Environment.ProcessorCount, idle.ToString());

            var png = File.ReadAllBytes(chart);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            Assert.True(Eventually(() => fixture.Clients == 1), $"scaling peers still connected: {fixture.Clients} clients");
        }
        finally
        {
            File.Delete(chart);
        }
    }

    [Fact]
    public void The_peer_command_is_not_in_the_help()
    {
        var help = Kbridge.Run("--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("bench", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("bench-peer", help.Stdout, StringComparison.Ordinal);
        var benchHelp = Kbridge.Run("bench", "--help");
        Assert.DoesNotContain("--scaling-clients", benchHelp.Stdout, StringComparison.Ordinal);
        Assert.Contains("--chart", benchHelp.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_runs_the_measurements_named_with_their_baselines_and_refuses_an_unknown_one()
    {
        var result = fixture.Run("bench", "--quick", "--json", "--only", "ioctl_no_spin,shm_vs_socket_gate");
        Assert.True(result.ExitCode == 0, result.ToString());
        var keys = result.Json().EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["futex_pingpong", "ioctl", "ioctl_fionread", "ioctl_no_spin", "ioctl_socket_gate", "shm_vs_socket_gate", "unix_socket_pingpong"], keys);

        var unknown = fixture.Run("bench", "--only", "ioctl,nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no measurement named 'nope'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("ioctl_async_32", unknown.Stderr, StringComparison.Ordinal);
    }

    private static bool Eventually(Func<bool> condition) => KbTest.Eventually(condition, TimeSpan.FromSeconds(15));
}
