using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Flt;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-port-messages: filter port messages waiting for a process to take them (FilterGetMessage)
/// are charged to it. Past the quota, FltSendMessage fails at once with STATUS_INSUFFICIENT_RESOURCES
/// (its pool-allocation failure) and queues nothing; taking a message makes room.
/// </summary>
public sealed class PortMessageQuotaTests
{
    private const int Limit = 2;

    [Fact]
    public async Task The_message_past_the_quota_fails_with_STATUS_INSUFFICIENT_RESOURCES_and_taking_one_makes_room()
    {
        using var kernel = QuotaTest.StartKernel("q-port", "--max-port-messages", $"{Limit}");
        using var driverSide = QuotaTest.Connect(kernel);
        using var userSide = QuotaTest.Connect(kernel);
        PortTestDriver port;
        using (GateClient.Use(driverSide)) port = PortTestDriver.Create();
        PortUser user;
        using (GateClient.Use(userSide)) user = PortUser.Connect(port.Name);
        try
        {
            // Each send is an IOCTL of its own, so the sends wait in the port side by side.
            var sends = Enumerable.Range(0, Limit + 1).Select(_ => Task.Run(() =>
            {
                using (GateClient.Use(driverSide)) return port.Send(1, 8, PortTestDriver.NoReply)[0];
            })).ToList();
            var refused = await Task.WhenAny(sends).WaitAsync(QuotaTest.Timeout);
            Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES.Value, (await refused).Status);
            var waiting = sends.Where(s => !ReferenceEquals(s, refused)).ToList();
            Assert.Contains(QuotaTest.WaitForQuotas(driverSide, q => q.Processes.Any(p => p.PortMessages == Limit)).Processes,
                p => p.PortMessages == Limit);
            Assert.All(waiting, s => Assert.False(s.IsCompleted));

            using (GateClient.Use(userSide))
            {
                for (var i = 0; i < Limit; i++) Assert.Equal(0, user.Get().HResult);
            }
            foreach (var send in waiting) Assert.Equal(0, (await send.WaitAsync(QuotaTest.Timeout)).Status);
            Assert.All(QuotaTest.WaitForQuotas(driverSide, q => q.Processes.All(p => p.PortMessages == 0)).Processes,
                p => Assert.Equal(0, p.PortMessages));

            // Room again.
            var again = Task.Run(() =>
            {
                using (GateClient.Use(driverSide)) return port.Send(1, 8, PortTestDriver.NoReply)[0];
            });
            using (GateClient.Use(userSide)) Assert.Equal(0, user.Get().HResult);
            Assert.Equal(0, (await again.WaitAsync(QuotaTest.Timeout)).Status);
        }
        finally
        {
            using (GateClient.Use(userSide)) user.Dispose();
            using (GateClient.Use(driverSide)) port.Dispose();
        }
    }
}
