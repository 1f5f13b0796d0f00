using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>FilterGetMessage overlapped on a completion port served by several threads, as the scanner sample does.</summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class PortCompletionPortTests(KernelFixture fixture)
{
    private const int Outstanding = 8;
    private const int BufferSize = 128;

    [Fact]
    public void Messages_with_replies_go_through_a_completion_port_and_several_threads_exactly_once()
    {
        const int count = 300;
        using var port = PortTestDriver.Create();
        using var user = PortUser.Connect(port.Name);
        var completion = Kernel32.CreateIoCompletionPort(user.Handle, 0, 7, 2);
        Assert.NotEqual(0, completion);
        var slots = (byte*)NativeMemory.AllocZeroed((nuint)(Outstanding * (sizeof(OVERLAPPED) + BufferSize)));
        var seen = new ConcurrentDictionary<int, int>();
        var errors = new ConcurrentQueue<string>();
        try
        {
            OVERLAPPED* Slot(int i) => (OVERLAPPED*)(slots + i * (sizeof(OVERLAPPED) + BufferSize));
            for (var i = 0; i < Outstanding; i++)
            {
                var hr = FltLib.FilterGetMessage(user.Handle, (FILTER_MESSAGE_HEADER*)(Slot(i) + 1), BufferSize, Slot(i));
                Assert.Equal(FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING), hr);
            }
            var sending = port.SendInBackground(count, messageLength: 16, replyLength: 4);
            var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                using var scope = GateClient.Use(fixture.Gate);
                var reply = stackalloc byte[sizeof(FILTER_REPLY_HEADER) + 4];
                while (true)
                {
                    uint bytes;
                    nuint key;
                    OVERLAPPED* overlapped;
                    if (!Kernel32.GetQueuedCompletionStatus(completion, &bytes, &key, &overlapped, 10_000))
                    {
                        if (overlapped is null) return; // timed out or the port closed: done
                        errors.Enqueue($"completion failed: {Kernel32.GetLastError()}");
                        return;
                    }
                    if (overlapped is null) return; // the stop packet
                    if (key != 7) errors.Enqueue($"key {key}");
                    var header = (FILTER_MESSAGE_HEADER*)(overlapped + 1);
                    var body = new ReadOnlySpan<byte>(header + 1, (int)bytes - sizeof(FILTER_MESSAGE_HEADER));
                    seen.AddOrUpdate((int)header->MessageId, 1, (_, n) => n + 1);
                    ((FILTER_REPLY_HEADER*)reply)->MessageId = header->MessageId;
                    *(int*)(reply + sizeof(FILTER_REPLY_HEADER)) = body[0];
                    var hr = FltLib.FilterReplyMessage(user.Handle, (FILTER_REPLY_HEADER*)reply, (uint)(sizeof(FILTER_REPLY_HEADER) + 4));
                    if (hr != FltLib.S_OK) errors.Enqueue($"reply 0x{hr:X8}");
                    if (seen.Count >= count)
                    {
                        for (var i = 0; i < 3; i++) Kernel32.PostQueuedCompletionStatus(completion, 0, 0, null);
                        return;
                    }
                    hr = FltLib.FilterGetMessage(user.Handle, header, BufferSize, overlapped);
                    if (hr != FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING) && hr != FltLib.S_OK) errors.Enqueue($"get 0x{hr:X8}");
                }
            })).ToList();
            foreach (var thread in threads) thread.Start();
            var sendingResult = PortTestDriver.Ended(sending, 60);
            foreach (var thread in threads) Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
            Assert.Empty(errors);
            Assert.Equal(count, seen.Count);
            Assert.All(seen.Values, n => Assert.Equal(1, n));
            var outcomes = sendingResult;
            Assert.Equal(count, outcomes.Length);
            // Each reply carries the first byte of its message, which is the message's index mod 256.
            for (var i = 0; i < count; i++) Assert.Equal((0, 4, i % 256), (outcomes[i].Status, outcomes[i].ReplyLength, outcomes[i].ReplyHead));
        }
        finally
        {
            user.Dispose();
            Kernel32.CloseHandle(completion);
            // The gets still pending complete (cancelled) when the handle closes; let them land before the memory goes.
            Thread.Sleep(200);
            NativeMemory.Free(slots);
        }
    }
}
