using KernelBridge.Kernel;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// A quota out of range is refused before anything starts: KernelOptions throws
/// ArgumentOutOfRangeException naming the quota and its range; `kbridge kernel` prints one
/// sentence naming the option (or variable) and exits non-zero, and no kernel comes up.
/// </summary>
public sealed class QuotaLimitsTests
{
    public static TheoryData<string, Func<QuotaLimits>> OutOfRange => new()
    {
        { "MaxHandles", () => new QuotaLimits { MaxHandles = 0 } },
        { "MaxHandles", () => new QuotaLimits { MaxHandles = QuotaLimits.MaxHandlesLimit + 1 } },
        { "MaxPendingIrps", () => new QuotaLimits { MaxPendingIrps = -1 } },
        { "MaxCompletionPackets", () => new QuotaLimits { MaxCompletionPackets = 0 } },
        { "MaxPostedMessages", () => new QuotaLimits { MaxPostedMessages = QuotaLimits.MaxCountLimit + 1 } },
        { "MaxPortMessages", () => new QuotaLimits { MaxPortMessages = 0 } },
        { "MaxMappedBytes", () => new QuotaLimits { MaxMappedBytes = 0 } },
        { "MaxConnectionsPerUser", () => new QuotaLimits { MaxConnectionsPerUser = 0 } },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void An_out_of_range_quota_throws_ArgumentOutOfRangeException_naming_it(string name, Func<QuotaLimits> make)
    {
        var refusal = Assert.Throws<ArgumentOutOfRangeException>(make);
        Assert.Equal(name, refusal.ParamName);
        Assert.Contains(name, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_generous_and_the_System_process_has_no_quota()
    {
        var defaults = new KernelOptions().Quotas;
        Assert.Equal(QuotaLimits.DefaultMaxHandles, defaults.MaxHandles);
        Assert.Equal(10_000, defaults.MaxPostedMessages);
        Assert.True(defaults.MaxPendingIrps >= 1024, "the benchmarks keep hundreds of requests in flight");
        Assert.Equal(QuotaLimits.MaxHandlesLimit, QuotaLimits.Unlimited.MaxHandles);
        Assert.Equal(long.MaxValue, QuotaLimits.Unlimited.MaxMappedBytes);
    }

    [Theory]
    [InlineData("--max-handles", "0")]
    [InlineData("--max-handles", "16777217")]
    [InlineData("--max-pending-irps", "-4")]
    [InlineData("--max-completion-packets", "many")]
    [InlineData("--max-posted-messages", "0")]
    [InlineData("--max-port-messages", "1e9")]
    [InlineData("--max-mapped-bytes", "0")]
    [InlineData("--max-mapped-bytes", "9999999999G")]
    [InlineData("--max-connections-per-user", "0")]
    public void An_unusable_quota_option_is_refused_with_a_clear_message_and_no_kernel_starts(string option, string value)
    {
        var instance = KernelProcess.NewInstanceName("q-bad");
        var result = Kbridge.Run("kernel", "--instance", instance, "--persistent", option, value);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Platform.InstanceDirectory.Open(instance, create: false).SocketPath), "a kernel started");
    }

    [Fact]
    public void An_unusable_KBRIDGE_MAX_HANDLES_is_refused_with_a_clear_message()
    {
        var result = Kbridge.RunWith(null, new Dictionary<string, string?> { ["KBRIDGE_MAX_HANDLES"] = "none" },
            "kernel", "--instance", KernelProcess.NewInstanceName("q-bad-env"), "--persistent");
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("KBRIDGE_MAX_HANDLES", result.Stderr, StringComparison.Ordinal);
    }
}
