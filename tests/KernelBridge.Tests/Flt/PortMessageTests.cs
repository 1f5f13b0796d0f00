using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>FltSendMessage to FilterGetMessage and FilterReplyMessage, and FilterSendMessage to the message callback.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortMessageTests
{
    private static string Hex(int value) => $"0x{value:X8}";

    private static readonly int NoWaiter = unchecked((int)0x801F0020);

    private static byte[] Expected(int index, int length) => Enumerable.Range(0, length).Select(j => (byte)(index + j)).ToArray();

    [Fact]
    public void A_send_with_a_reply_waits_for_FilterReplyMessage_and_gets_the_reply()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(3, messageLength: 40, replyLength: 8);
        var ids = new List<ulong>();
        for (var i = 0; i < 3; i++)
        {
            var message = user.Get();
            Assert.Equal(FltLib.S_OK, message.HResult);
            Assert.Equal(8u + FilterPortLimits.HeaderSize, message.ReplyLength);
            Assert.Equal(Expected(i, 40), message.Body);
            ids.Add(message.MessageId);
            Assert.Equal(FltLib.S_OK, user.Reply(message.MessageId, BitConverter.GetBytes(1000 + i).Concat(new byte[4]).ToArray()));
        }
        var sendingResult = PortTestDriver.Ended(sending, 10);
        var outcomes = sendingResult;
        Assert.Equal(3, outcomes.Length);
        for (var i = 0; i < 3; i++) Assert.Equal(new PortSendOutcome(0, 8, 1000 + i), outcomes[i]);
        Assert.Equal(3, ids.Distinct().Count());
        // Answered already: nobody waits for it any more.
        Assert.Equal(Hex(NoWaiter), Hex(user.Reply(ids[0], new byte[8])));
    }

    [Fact]
    public void A_send_without_a_reply_ends_when_a_FilterGetMessage_takes_it()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(2, messageLength: 5, replyLength: PortTestDriver.NoReply);
        var first = user.Get();
        Assert.Equal(0u, first.ReplyLength);
        Assert.Equal(Expected(0, 5), first.Body);
        var second = user.Get();
        Assert.Equal(Expected(1, 5), second.Body);
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.All(sendingResult, o => Assert.Equal(new PortSendOutcome(0, 0, 0), o));
        // Nobody waits for a reply to a message sent without a reply buffer.
        Assert.Equal(Hex(NoWaiter), Hex(user.Reply(first.MessageId, [1])));
    }

    [Fact]
    public void A_waiting_FilterGetMessage_takes_the_message_at_once_even_with_a_zero_timeout()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        // No FilterGetMessage waiting: a zero timeout ends at once.
        Assert.Equal(new PortSendOutcome(NtStatus.STATUS_TIMEOUT.Value, 0, 0), port.Send(1, 4, PortTestDriver.NoReply, timeout: 0)[0]);
        var getting = Task.Run(() => user.Get());
        Assert.True(KbTest.Eventually(() =>
        {
            var outcome = port.Send(1, 4, PortTestDriver.NoReply, timeout: 0)[0];
            return outcome.Status == 0;
        }));
        var gettingResult = PortTestDriver.Ended(getting, 10);
        Assert.Equal(Expected(0, 4), gettingResult.Body);
    }

    [Fact]
    public void A_reply_that_comes_after_the_timeout_gets_ERROR_FLT_NO_WAITER_FOR_REPLY_and_the_sender_STATUS_TIMEOUT()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 4, replyLength: 4, timeout: -2_000 * 10_000L);
        var message = user.Get();
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(new PortSendOutcome(NtStatus.STATUS_TIMEOUT.Value, 0, 0), sendingResult[0]);
        Assert.Equal(Hex(NoWaiter), Hex(user.Reply(message.MessageId, new byte[4])));
    }

    [Fact]
    public void A_message_nobody_takes_times_out_and_is_not_delivered_later()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Equal(NtStatus.STATUS_TIMEOUT.Value, port.Send(1, 4, 4, timeout: -100 * 10_000L)[0].Status);
        Assert.Null(user.TryGet(timeout: TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Replies_to_unknown_ids_and_too_short_replies_are_refused()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Equal(Hex(NoWaiter), Hex(user.Reply(0, [1, 2])));
        Assert.Equal(Hex(NoWaiter), Hex(user.Reply(ulong.MaxValue, [])));
        Assert.Equal(Hex(FltLib.E_INVALIDARG), Hex(FltLib.FilterReplyMessage(user.Handle, new byte[8])));
    }

    [Fact]
    public void A_reply_longer_than_the_senders_buffer_is_cut_and_the_sender_gets_STATUS_BUFFER_OVERFLOW()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 4, replyLength: 4);
        var message = user.Get();
        Assert.Equal(FltLib.S_OK, user.Reply(message.MessageId, BitConverter.GetBytes(0x11223344).Concat(new byte[12]).ToArray()));
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(new PortSendOutcome(NtStatus.STATUS_BUFFER_OVERFLOW.Value, 4, 0x11223344), sendingResult[0]);
    }

    [Fact]
    public void A_message_longer_than_the_get_buffer_arrives_cut_with_ERROR_MORE_DATA()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 100, replyLength: PortTestDriver.NoReply);
        var message = user.Get(bufferSize: FilterPortLimits.HeaderSize + 10);
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_MORE_DATA)), Hex(message.HResult));
        Assert.Equal(Expected(0, 10), message.Body);
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(0, sendingResult[0].Status);
        Assert.Equal(Hex(FltLib.E_INVALIDARG), Hex(FltLib.FilterGetMessage(user.Handle, new byte[8])));
    }

    [Fact]
    public void A_message_larger_than_the_port_allows_is_STATUS_INVALID_PARAMETER()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER.Value, port.Send(1, FilterPortLimits.MaxMessageSize + 1, PortTestDriver.NoReply)[0].Status);
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER.Value, port.Send(1, 4, FilterPortLimits.MaxMessageSize + 1)[0].Status);
        var sending = port.SendInBackground(1, FilterPortLimits.MaxMessageSize, PortTestDriver.NoReply);
        var message = user.Get(bufferSize: FilterPortLimits.HeaderSize + FilterPortLimits.MaxMessageSize);
        Assert.Equal(FltLib.S_OK, message.HResult);
        Assert.Equal(Expected(0, FilterPortLimits.MaxMessageSize), message.Body);
        var sendingResult = PortTestDriver.Ended(sending, 10);
    }

    [Fact]
    public void The_synchronous_FilterGetMessage_takes_a_queued_message()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var sending = port.SendInBackground(1, messageLength: 6, replyLength: 2);
        var buffer = new byte[64];
        var getting = Task.Run(() => FltLib.FilterGetMessage(user.Handle, buffer));
        var gettingResult = PortTestDriver.Ended(getting, 10);
        Assert.Equal(FltLib.S_OK, gettingResult);
        var message = PortUser.MessageOf(gettingResult, buffer, FilterPortLimits.HeaderSize + 6);
        Assert.Equal(Expected(0, 6), message.Body);
        Assert.Equal(FltLib.S_OK, user.Reply(message.MessageId, [7, 7]));
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(2, sendingResult[0].ReplyLength);
    }

    [Fact]
    public void The_blocking_FltSendMessage_works_from_a_worker_and_refuses_to_deadlock_in_the_callers_own_dispatch()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        Assert.Equal(NtStatus.STATUS_POSSIBLE_DEADLOCK.Value, port.Send(1, 4, 4, mode: PortSendMode.BlockingInDispatch)[0].Status);
        var sending = port.SendInBackground(1, 4, 4, mode: PortSendMode.BlockingOnWorker);
        var message = user.Get();
        Assert.Equal(FltLib.S_OK, user.Reply(message.MessageId, BitConverter.GetBytes(77)));
        var sendingResult = PortTestDriver.Ended(sending, 10);
        Assert.Equal(new PortSendOutcome(0, 4, 77), sendingResult[0]);
    }

    [Fact]
    public void FilterSendMessage_reaches_the_message_callback_and_returns_its_output()
    {
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var output = new byte[8];
        Assert.Equal(FltLib.S_OK, FltLib.FilterSendMessage(user.Handle, new byte[] { 1, 2, 3 }, output, out var returned));
        Assert.Equal(3u, returned);
        Assert.Equal(new byte[] { 2, 3, 4, 0, 0, 0, 0, 0 }, output);
        // Cut to the output buffer: the callback's STATUS_BUFFER_OVERFLOW, with the bytes that fit.
        var small = new byte[2];
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_MORE_DATA)), Hex(FltLib.FilterSendMessage(user.Handle, new byte[] { 5, 6, 7 }, small, out returned)));
        Assert.Equal(new byte[] { 6, 7 }, small);
        Assert.Equal(2, port.State().Info.UserMessages);
    }

    [Fact]
    public void FilterSendMessage_gets_the_callbacks_error_and_a_port_without_a_callback_refuses()
    {
        using (var port = PortTestDriver.Create(messageStatus: NtStatus.STATUS_ACCESS_DENIED))
        using (var user = PortUser.Connect(port.Name))
            Assert.Equal(Hex(unchecked((int)0x80070005)), Hex(FltLib.FilterSendMessage(user.Handle, [], new byte[4], out _)));
        using (var port = PortTestDriver.Create(withMessageCallback: false))
        using (var user = PortUser.Connect(port.Name))
            Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_NOT_SUPPORTED)), Hex(FltLib.FilterSendMessage(user.Handle, [1], new byte[4], out _)));
    }

    [Fact]
    public void FilterGetMessage_on_a_handle_of_another_type_fails_as_Windows_does()
    {
        var buffer = new byte[64];
        var @event = Kernel32.CreateEvent(0, true, false, null);
        try
        {
            Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_INVALID_HANDLE)), Hex(FltLib.FilterGetMessage(@event, buffer)));
        }
        finally
        {
            Kernel32.CloseHandle(@event);
        }
        Assert.Equal(Hex(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_INVALID_HANDLE)), Hex(FltLib.FilterGetMessage(0x7FF0, buffer)));
        var file = KbTest.Open(KbTest.NewTag());
        try
        {
            // A file of another device: the device does not know the control code.
            var hr = FltLib.FilterReplyMessage(file, new byte[16]);
            Assert.NotEqual(FltLib.S_OK, hr);
        }
        finally
        {
            Kernel32.CloseHandle(file);
        }
    }
}
