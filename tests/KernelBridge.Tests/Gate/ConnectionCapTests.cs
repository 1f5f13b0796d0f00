using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// The kernel serves at most --max-connections clients (KBRIDGE_MAX_CONNECTIONS). One more hears
/// STATUS_REQUEST_NOT_ACCEPTED in its HelloReply (ERROR_REQ_NOT_ACCEP: "No more connections can be
/// made to this remote computer at this time because there are already as many connections as the
/// computer can accept", what a Windows server at its connection limit answers), then the kernel
/// hangs up; the clients it has are not disturbed.
/// </summary>
public sealed class ConnectionCapTests
{
    [Fact]
    public void The_connection_after_the_cap_is_refused_with_STATUS_REQUEST_NOT_ACCEPTED()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("cap"), "--persistent", "--max-connections", "3");
        using var first = ConnectOnceTheProbeHasGone(kernel.Instance);
        using var second = RawGate.Connect(kernel.Instance);
        second.Handshake();
        var third = RawGate.Connect(kernel.Instance);
        try
        {
            third.Handshake();

            using (var fourth = RawGate.Connect(kernel.Instance))
            {
                fourth.SendHello();
                Assert.Equal(NtStatus.STATUS_REQUEST_NOT_ACCEPTED, fourth.HelloStatus(TimeSpan.FromSeconds(10)));
                Assert.True(fourth.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel kept the refused connection open");
            }
            var refusal = Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(kernel.Instance, autoStart: false));
            Assert.Contains("STATUS_REQUEST_NOT_ACCEPTED", refusal.Message, StringComparison.Ordinal);

            // The three it serves carry on.
            Assert.Equal(3, KernelControl.QueryState(first).Clients);
            Assert.Equal(NtStatus.STATUS_SUCCESS, second.QueryState());
            Assert.Equal(NtStatus.STATUS_SUCCESS, third.QueryState());
        }
        finally
        {
            third.Dispose();
        }
        // A free place is taken by the next client.
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(first).Clients == 2), "the kernel still counts the client that left");
        using var newcomer = kernel.Connect();
        Assert.Equal(3, KernelControl.QueryState(newcomer).Clients);
        // The console logger writes from a queue of its own: the line comes a moment after the refusal.
        Assert.True(KbTest.Eventually(() => kernel.Process.Output.Contains("refusing", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            $"the kernel did not log the refusal:{Environment.NewLine}{kernel.Process.Output}");
    }

    [Fact]
    public void KBRIDGE_MAX_CONNECTIONS_sets_the_cap()
    {
        var environment = new Dictionary<string, string> { ["KBRIDGE_MAX_CONNECTIONS"] = "1" };
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("cap-env"), environment, [], "--persistent");
        using var only = ConnectOnceTheProbeHasGone(kernel.Instance);
        using var refused = RawGate.Connect(kernel.Instance);
        refused.SendHello();
        Assert.Equal(NtStatus.STATUS_REQUEST_NOT_ACCEPTED, refused.HelloStatus(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, KernelControl.QueryState(only).Clients);
    }

    /// <summary>Starting a kernel probes its socket with a connection of its own, which counts until the kernel sees it close.</summary>
    private static GateClient ConnectOnceTheProbeHasGone(string instance)
    {
        GateClient? gate = null;
        Assert.True(KbTest.Eventually(() =>
        {
            try
            {
                gate = GateClient.Connect(instance, autoStart: false);
                return true;
            }
            catch (KernelUnavailableException)
            {
                return false;
            }
        }), "the kernel never accepted a first client");
        return gate!;
    }

    [Theory]
    [InlineData("--max-connections", "0")]
    [InlineData("--max-connections", "-3")]
    [InlineData("--max-connections", "lots")]
    [InlineData("--max-client-backlog", "0")]
    [InlineData("--max-client-backlog", "1e999")]
    public void An_unusable_limit_is_refused_with_a_clear_message(string option, string value)
    {
        var result = Kbridge.Run("kernel", "--instance", KernelProcess.NewInstanceName("bad-limit"), option, value);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unusable_KBRIDGE_MAX_CONNECTIONS_is_refused_with_a_clear_message()
    {
        var result = Kbridge.RunWith(null, new Dictionary<string, string?> { ["KBRIDGE_MAX_CONNECTIONS"] = "many" },
            "kernel", "--instance", KernelProcess.NewInstanceName("bad-limit-env"));
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("KBRIDGE_MAX_CONNECTIONS", result.Stderr, StringComparison.Ordinal);
    }
}
