using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>Connections ending from either side, under pending sends and gets, and with the client process killed.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortDisconnectTests(KernelFixture fixture)
{
    private static string Hex(int value) => $"0x{value:X8}";

    private static readonly int Disconnected = FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_INVALID_HANDLE);

    [Fact]
    public void The_kernel_closing_the_client_port_fails_the_pending_FilterGetMessage_and_everything_after()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var getting = Task.Run(() => user.TryGet(timeout: TimeSpan.FromSeconds(10)));
        Thread.Sleep(100);
        port.CloseClient();
        var gettingResult = PortTestDriver.Ended(getting, 10);
        Assert.Equal(Hex(Disconnected), Hex(gettingResult!.HResult));
        Assert.Equal(Hex(Disconnected), Hex(user.Get().HResult));
        Assert.Equal(Hex(Disconnected), Hex(user.Reply(1, [])));
        Assert.Equal(Hex(Disconnected), Hex(FltLib.FilterSendMessage(user.Handle, [1], new byte[1], out _)));
        user.Dispose();
        // The kernel closed it first: the disconnect callback is not called for it.
        Thread.Sleep(100);
        Assert.Equal(0, port.State().Info.Disconnects);
    }

    [Fact]
    public void The_kernel_closing_the_server_port_leaves_a_pending_FilterGetMessage_waiting_and_working()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var getting = Task.Run(() => user.TryGet(timeout: TimeSpan.FromSeconds(1.5)));
        Thread.Sleep(100);
        port.CloseServer();
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_FILE_NOT_FOUND)), Hex(PortUser.TryConnect(port.Name, null, out _)));
        // Still waiting until the test gives up on it (the port's close fails no get).
        var gettingResult = PortTestDriver.Ended(getting, 15);
        Assert.Null(gettingResult);
    }

    [Fact]
    public void Closing_the_handle_fails_the_kernels_pending_send_with_STATUS_PORT_DISCONNECTED()
    {
        using var port = PortTestDriver.Create();
        var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 4, replyLength: 4);
        var message = user.Get();
        Assert.NotEqual(0ul, message.MessageId);
        user.Dispose();
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED.Value, sendingResult[0].Status);
        Assert.Equal(1, port.WaitForState(i => i.Disconnects == 1).Disconnects);
    }

    [Fact]
    public void A_queued_send_fails_when_the_handle_closes_and_a_send_after_it_fails_at_once()
    {
        using var port = PortTestDriver.Create();
        var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 4, replyLength: PortTestDriver.NoReply);
        // Queued (or about to be: a send that starts after the close fails the same way).
        Assert.Equal(1, port.WaitForState(i => i.SendsStarted == 1).SendsStarted);
        user.Dispose();
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED.Value, sendingResult[0].Status);
    }

    [Fact]
    public void CancelIo_cancels_a_pending_FilterGetMessage_and_the_connection_lives_on()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Null(user.TryGet(timeout: TimeSpan.FromMilliseconds(100)));
        var sending = port.SendInBackground(1, 3, PortTestDriver.NoReply);
        Assert.Equal(new byte[] { 0, 1, 2 }, user.Get().Body);
        var sendingResult = PortTestDriver.Ended(sending, 10);
    }

    [Fact]
    public void The_client_process_killed_while_the_kernel_awaits_its_reply_is_a_disconnect()
    {
        var gate = fixture.Gate;
        using var port = PortTestDriver.Create();
        var baseline = KernelControl.QueryState(gate).ObjectsOf("FilterCommunicationPort");
        using var child = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "port", fixture.Instance, port.Name);
        Assert.True(child.WaitForLine("connected", TimeSpan.FromSeconds(30)), child.Output);
        var sending = port.SendInBackground(1, messageLength: 8, replyLength: 8);
        Assert.True(child.WaitForLine("got", TimeSpan.FromSeconds(30)), child.Output);
        child.Kill();
        var sendingResult = PortTestDriver.Ended(sending, 30);
        Assert.Equal(NtStatus.STATUS_PORT_DISCONNECTED.Value, sendingResult[0].Status);
        var info = port.WaitForState(i => i.Disconnects == 1);
        Assert.Equal(1, info.Disconnects);
        Assert.Equal(0, info.LiveClients);
        var after = KernelCounts.WaitFor(gate, s => s.ObjectsOf("FilterCommunicationPort") == baseline, TimeSpan.FromSeconds(10));
        Assert.Equal(baseline, after.ObjectsOf("FilterCommunicationPort"));
    }
}
