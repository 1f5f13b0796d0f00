using System.Globalization;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.TestClient;

/// <summary>
/// The user process of a shared channel whose driver side is the test (<see cref="ChannelTraffic"/>):
/// test-client channel send PATH SEED COUNT       sends stream SEED's records 0..COUNT-1 up, prints "sent CHECKSUM"
/// test-client channel receive PATH SEED COUNT    receives and checks them coming down, prints "received CHECKSUM"
/// test-client channel echo PATH COUNT            sends each of COUNT records that come down back up, prints "echoed COUNT"
/// test-client channel flood PATH SEED COUNT      sends records 0..COUNT-1 (8 bytes or more) up without waiting, prints "sent S dropped D"
/// test-client channel hang PATH SEED COMMITTED   sends COMMITTED records, reserves the longest one more, fills half, prints "reserved CHECKSUM", waits to be killed
/// test-client channel stream PATH SEED           sends records up until killed, prints "streaming" after the first 1,000
/// PATH is the test's memfd as /proc/PID/fd/N. Every wait is bounded; the process never outlives two minutes.
/// </summary>
public static unsafe class ChannelMode
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    public static int Run(string[] args)
    {
        if (args.Length < 3) return Usage();
        using var memory = SharedMemory.TryOpen(args[1], 1L << 31, out var error);
        if (memory is null) return Fail($"{error}");
        var status = ChannelEndpoint.TryAttach(memory.Pointer, memory.Length, ChannelSide.User, FutexDoorbell.Instance, out var endpoint);
        if (endpoint is null) return Fail($"{status}");
        return args[0] switch
        {
            "send" when args.Length == 4 => Report(ChannelTraffic.Send(endpoint.Sender, Number(args[2]), 0, (long)Number(args[3]), Patience, out var sum), $"sent {sum}"),
            "receive" when args.Length == 4 => Report(ChannelTraffic.Receive(endpoint.Receiver, Number(args[2]), 0, (long)Number(args[3]), Patience, out var sum), $"received {sum}"),
            "echo" when args.Length == 3 => Echo(endpoint, (long)Number(args[2])),
            "flood" when args.Length == 4 => Flood(endpoint, Number(args[2]), (long)Number(args[3])),
            "hang" when args.Length == 4 => Hang(endpoint, Number(args[2]), (long)Number(args[3])),
            "stream" when args.Length == 3 => Stream(endpoint, Number(args[2])),
            _ => Usage(),
        };
    }

    /// <summary>Zero-copy both ways: each record is copied once, from the down ring's span into the up ring's reservation.</summary>
    private static int Echo(ChannelEndpoint endpoint, long count)
    {
        for (long i = 0; i < count; i++)
        {
            var status = endpoint.Receiver.Receive(out var record, Patience);
            if (status != RingStatus.Ok) return Fail($"{status} receiving record {i}");
            status = endpoint.Sender.Reserve(record.Length, Patience, out var reservation);
            if (status != RingStatus.Ok) return Fail($"{status} sending record {i}");
            record.CopyTo(reservation.Payload);
            reservation.Commit();
        }
        return Report(null, $"echoed {count}");
    }

    private static int Flood(ChannelEndpoint endpoint, ulong seed, long count) =>
        Report(
            ChannelTraffic.SendDropping(endpoint.Sender, seed, count, ChannelTraffic.SequenceLength, out var sent, out var dropped),
            $"sent {sent} dropped {dropped}");

    private static int Hang(ChannelEndpoint endpoint, ulong seed, long committed)
    {
        var error = ChannelTraffic.Send(endpoint.Sender, seed, 0, committed, Patience, out var sum);
        if (error is not null) return Fail(error);
        var status = endpoint.Sender.Reserve(endpoint.Sender.MaxRecordLength, Patience, out var reservation);
        if (status != RingStatus.Ok) return Fail($"{status}");
        // Half the record written, never committed: what a sender killed mid-record leaves behind.
        reservation.Payload[..(reservation.Payload.Length / 2)].Fill(0xEE);
        Console.WriteLine($"reserved {sum}");
        Thread.Sleep(Lifetime);
        return 0;
    }

    private static int Stream(ChannelEndpoint endpoint, ulong seed)
    {
        const long Batch = 1000;
        var end = DateTime.UtcNow + Lifetime;
        for (long first = 0; DateTime.UtcNow < end; first += Batch)
        {
            var error = ChannelTraffic.Send(endpoint.Sender, seed, first, Batch, Patience, out _);
            if (error is not null) return Fail(error);
            if (first == 0) Console.WriteLine("streaming");
        }
        return 0;
    }

    private static int Report(string? error, string success)
    {
        if (error is not null) return Fail(error);
        Console.WriteLine(success);
        return 0;
    }

    private static int Fail(string error)
    {
        Console.WriteLine($"error {error}");
        return 1;
    }

    private static ulong Number(string text) => ulong.Parse(text, CultureInfo.InvariantCulture);

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client channel send|receive|flood|hang PATH SEED COUNT | echo PATH COUNT | stream PATH SEED");
        return 2;
    }
}
