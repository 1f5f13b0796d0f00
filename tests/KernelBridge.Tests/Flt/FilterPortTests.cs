using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>The idiomatic layer: FilterPort's message stream, typed replies and typed requests.</summary>
[Collection(KernelCollection.Name)]
public sealed class FilterPortTests(KernelFixture fixture)
{
    [Fact]
    public async Task Messages_stream_in_and_typed_replies_reach_the_sender()
    {
        using var driver = PortTestDriver.Create();
        using var port = FilterPort.Connect(driver.Name, [4, 2], fixture.Gate);
        Assert.Equal(new byte[] { 4, 2 }, driver.State().Context);
        var sending = driver.SendInBackground(4, messageLength: 12, replyLength: 4);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var index = 0;
        await foreach (var message in port.GetMessagesAsync(64, cancel.Token))
        {
            Assert.True(message.WantsReply);
            Assert.Equal(4, message.ReplyLength);
            Assert.False(message.Truncated);
            Assert.Equal(index, message.Body.Span[0]);
            await port.ReplyAsync(message, 500 + index);
            if (++index == 4) break;
        }
        var outcomes = await sending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => new PortSendOutcome(0, 4, 500 + i)), outcomes);
    }

    [Fact]
    public async Task A_second_reply_throws_STATUS_FLT_NO_WAITER_FOR_REPLY()
    {
        using var driver = PortTestDriver.Create();
        using var port = FilterPort.Connect(driver.Name, gate: fixture.Gate);
        var sending = driver.SendInBackground(1, 4, 4);
        var message = await port.GetMessageAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await port.ReplyAsync(message, 1);
        var e = await Assert.ThrowsAsync<NtStatusException>(async () => await port.ReplyAsync(message, 2));
        Assert.Equal(NtStatus.STATUS_FLT_NO_WAITER_FOR_REPLY, e.Status);
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_reaches_the_message_callback_typed()
    {
        using var driver = PortTestDriver.Create();
        using var port = FilterPort.Connect(driver.Name, gate: fixture.Gate);
        Assert.Equal(0x05040302, await port.SendAsync<int, int>(0x04030201));
    }

    [Fact]
    public async Task The_stream_ends_when_the_filter_closes_the_connection_and_cancelling_ends_a_wait()
    {
        using var driver = PortTestDriver.Create();
        using var port = FilterPort.Connect(driver.Name, gate: fixture.Gate);
        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            var none = 0;
            await foreach (var _ in port.GetMessagesAsync(cancellationToken: cancel.Token)) none++;
            Assert.Equal(0, none);
        }
        var reading = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var _ in port.GetMessagesAsync()) count++;
            return count;
        });
        await Task.Delay(100);
        driver.CloseClient();
        Assert.Equal(0, await reading.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Connecting_to_no_port_throws_with_the_status()
    {
        var e = Assert.Throws<NtStatusException>(() => FilterPort.Connect(@"\KbPortMissing" + Guid.NewGuid().ToString("N")[..6], gate: fixture.Gate));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, e.Status);
    }
}
