using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-connections-per-user: one Unix user may have that many clients connected. The next hears
/// STATUS_CONNECTION_COUNT_LIMIT in its HelloReply (ERROR_CONNECTION_COUNT_LIMIT: "the limit on the
/// number of concurrent connections for this account has been reached"), then the kernel hangs up;
/// the user's other clients carry on, and a place freed is taken by the next.
/// </summary>
public sealed class ConnectionsPerUserTests
{
    [Fact]
    public void The_connection_past_the_users_limit_is_refused_with_STATUS_CONNECTION_COUNT_LIMIT()
    {
        using var kernel = QuotaTest.StartKernel("q-per-user", "--max-connections-per-user", "2");
        using var first = QuotaTest.Connect(kernel);
        var second = QuotaTest.Connect(kernel);
        try
        {
            using (var third = RawGate.Connect(kernel.Instance))
            {
                third.SendHello();
                Assert.Equal(NtStatus.STATUS_CONNECTION_COUNT_LIMIT, third.HelloStatus(TimeSpan.FromSeconds(10)));
                Assert.True(third.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel kept the refused connection open");
            }
            var refusal = Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(kernel.Instance, autoStart: false));
            Assert.Contains("STATUS_CONNECTION_COUNT_LIMIT", refusal.Message, StringComparison.Ordinal);

            // The two it serves carry on.
            Assert.Equal(2, KernelControl.QueryState(first).Clients);
            Assert.Equal(2, KernelControl.QueryQuotas(second).MaxConnectionsPerUser);
        }
        finally
        {
            second.Dispose();
        }
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(first).Clients == 1), "the kernel still counts the client that left");
        using var newcomer = QuotaTest.Connect(kernel);
        Assert.Equal(2, KernelControl.QueryState(newcomer).Clients);
        Assert.True(KbTest.Eventually(() => kernel.Process.Output.Contains("the most one user may have", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            $"the kernel did not log the refusal:{Environment.NewLine}{kernel.Process.Output}");
    }
}
