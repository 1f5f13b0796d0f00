using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>FilterConnectCommunicationPort against the test driver's ports: the context, refusals, limits and names.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortConnectTests(KernelFixture fixture)
{
    private static string Hex(int hr) => $"0x{hr:X8}";

    [Fact]
    public void The_connection_context_reaches_the_connect_callback()
    {
        using var port = PortTestDriver.Create();
        var context = new byte[300];
        for (var i = 0; i < context.Length; i++) context[i] = (byte)(i * 3);
        using var user = PortUser.Connect(port.Name, context);
        var (info, seen) = port.State();
        Assert.Equal(1, info.Connects);
        Assert.Equal(1, info.LiveClients);
        Assert.Equal(context, seen);
    }

    [Fact]
    public void An_empty_context_arrives_empty()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Empty(port.State().Context);
    }

    [Theory]
    [InlineData(0xC0000022u, 0x80070005u)] // STATUS_ACCESS_DENIED -> E_ACCESSDENIED
    [InlineData(0xC000009Au, 0x800705AAu)] // STATUS_INSUFFICIENT_RESOURCES -> ERROR_NO_SYSTEM_RESOURCES
    [InlineData(0xC0000236u, 0x800704C9u)] // STATUS_CONNECTION_REFUSED -> ERROR_CONNECTION_REFUSED
    public void The_connect_callbacks_refusal_reaches_the_caller_as_its_HRESULT(uint refusal, uint expected)
    {
        using var port = PortTestDriver.Create(refuse: (NtStatus)refusal);
        var hr = PortUser.TryConnect(port.Name, [1, 2, 3], out var user);
        Assert.Null(user);
        Assert.Equal(Hex(unchecked((int)expected)), Hex(hr));
        var (info, context) = port.State();
        Assert.Equal(1, info.Refused);
        Assert.Equal(0, info.LiveClients);
        Assert.Equal(new byte[] { 1, 2, 3 }, context);
    }

    [Fact]
    public void A_port_that_does_not_exist_is_ERROR_FILE_NOT_FOUND()
    {
        var hr = PortUser.TryConnect(@"\KbPortNobodyMade" + Guid.NewGuid().ToString("N")[..8], null, out var user);
        Assert.Null(user);
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_FILE_NOT_FOUND)), Hex(hr));
        hr = PortUser.TryConnect(@"\NoSuchDirectory\Port", null, out user);
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_PATH_NOT_FOUND)), Hex(hr));
    }

    [Fact]
    public void A_name_that_is_not_a_port_is_refused()
    {
        var hr = PortUser.TryConnect(@"\Device\Null", null, out var user);
        Assert.Null(user);
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_INVALID_HANDLE)), Hex(hr));
    }

    [Fact]
    public void MaxConnections_plus_one_is_ERROR_CONNECTION_COUNT_LIMIT_until_one_goes()
    {
        using var port = PortTestDriver.Create(maxConnections: 2);
        using var first = PortUser.Connect(port.Name);
        using var second = PortUser.Connect(port.Name);
        var hr = PortUser.TryConnect(port.Name, null, out var third);
        Assert.Null(third);
        Assert.Equal(Hex(unchecked((int)0x800704D6)), Hex(hr));
        first.Dispose();
        Assert.Equal(1, port.WaitForState(i => i.Disconnects == 1).Disconnects);
        using var again = PortUser.Connect(port.Name);
        Assert.Equal(2, port.State().Info.LiveClients);
    }

    [Fact]
    public void A_closed_server_port_takes_no_new_connections_but_keeps_the_open_ones()
    {
        using var port = PortTestDriver.Create(maxConnections: 4);
        using var user = PortUser.Connect(port.Name);
        port.CloseServer();
        var hr = PortUser.TryConnect(port.Name, null, out var late);
        Assert.Null(late);
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_FILE_NOT_FOUND)), Hex(hr));
        // The connection made before the close still carries messages both ways.
        var sending = port.SendInBackground(1, messageLength: 4, replyLength: 4);
        var message = user.Get();
        Assert.Equal(FltLib.S_OK, user.Reply(message.MessageId, BitConverter.GetBytes(99)));
        Assert.Equal(99, PortTestDriver.Ended(sending)[0].ReplyHead);
        var output = new byte[1];
        Assert.Equal(FltLib.S_OK, FltLib.FilterSendMessage(user.Handle, new byte[] { 1 }, output, out _));
        Assert.Equal(2, output[0]);
    }

    [Fact]
    public void Closing_the_handle_runs_the_disconnect_callback_and_nothing_is_left()
    {
        var gate = fixture.Gate;
        using var port = PortTestDriver.Create(maxConnections: 8);
        var baseline = KernelControl.QueryState(gate);
        var users = Enumerable.Range(0, 5).Select(_ => PortUser.Connect(port.Name)).ToList();
        Assert.Equal(baseline.ObjectsOf("FilterCommunicationPort") + 5, KernelControl.QueryState(gate).ObjectsOf("FilterCommunicationPort"));
        foreach (var user in users) user.Dispose();
        var info = port.WaitForState(i => i.Disconnects == 5);
        Assert.Equal(5, info.Disconnects);
        Assert.Equal(0, info.LiveClients);
        var after = KernelCounts.WaitFor(gate, s => s.ObjectsOf("FilterCommunicationPort") == baseline.ObjectsOf("FilterCommunicationPort"),
            TimeSpan.FromSeconds(10));
        Assert.Equal(baseline.ObjectsOf("FilterCommunicationPort"), after.ObjectsOf("FilterCommunicationPort"));
        Assert.Equal(baseline.Handles, after.Handles);
    }

    [Fact]
    public void A_closed_server_port_object_goes_once_its_last_connection_does()
    {
        var gate = fixture.Gate;
        var baseline = KernelControl.QueryState(gate).ObjectsOf("FilterConnectionPort");
        var port = PortTestDriver.Create();
        var user = PortUser.Connect(port.Name);
        port.CloseServer();
        Assert.Equal(baseline + 1, KernelControl.QueryState(gate).ObjectsOf("FilterConnectionPort"));
        user.Dispose();
        var after = KernelCounts.WaitFor(gate, s => s.ObjectsOf("FilterConnectionPort") == baseline, TimeSpan.FromSeconds(10));
        Assert.Equal(baseline, after.ObjectsOf("FilterConnectionPort"));
        port.Dispose();
    }

    [Fact]
    public void A_context_longer_than_its_size_sends_only_the_size()
    {
        using var port = PortTestDriver.Create();
        var hr = FltLib.FilterConnectCommunicationPort(port.Name, 0, new byte[] { 9, 8, 7, 6 }, 2, 0, out var handle);
        Assert.Equal(FltLib.S_OK, hr);
        Kernel32.CloseHandle(handle);
        Assert.Equal(new byte[] { 9, 8 }, port.State().Context);
        Assert.Equal(Hex(FltLib.E_INVALIDARG), Hex(FltLib.FilterConnectCommunicationPort(port.Name, 0, new byte[] { 1 }, 2, 0, out _)));
        Assert.Equal(Hex(FltLib.E_INVALIDARG), Hex(FltLib.FilterConnectCommunicationPort(port.Name, 0x80, default, 0, 0, out _)));
    }
}
