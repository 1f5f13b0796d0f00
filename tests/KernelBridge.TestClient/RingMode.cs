using System.Globalization;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client ring produce PATH SEED COUNT        writes stream SEED's records 0..COUNT-1, prints "sent CHECKSUM"
/// test-client ring consume PATH SEED COUNT        reads and checks them, prints "received CHECKSUM" (or "mismatch I")
/// test-client ring hang PATH SEED COMMITTED       writes COMMITTED records, reserves one more, fills half of it, prints "reserved", waits to be killed
/// test-client ring wake PATH                      prints "ready", waits for a line on stdin, writes one record and rings the doorbell, prints "sent"
/// PATH is the test's memfd as /proc/PID/fd/N. Every wait is bounded; the process never outlives two minutes.
/// </summary>
public static unsafe class RingMode
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static int Run(string[] args)
    {
        if (args.Length < 2) return Usage();
        using var memory = SharedMemory.TryOpen(args[1], 1L << 31, out var error);
        if (memory is null)
        {
            Console.WriteLine($"error {error}");
            return 1;
        }
        return args[0] switch
        {
            "produce" when args.Length == 4 => Produce(memory, Seed(args[2]), Count(args[3])),
            "consume" when args.Length == 4 => Consume(memory, Seed(args[2]), Count(args[3])),
            "hang" when args.Length == 4 => Hang(memory, Seed(args[2]), Count(args[3])),
            "wake" when args.Length == 2 => Wake(memory),
            _ => Usage(),
        };
    }

    private static int Produce(SharedMemory memory, ulong seed, long count)
    {
        var writer = Attach(memory);
        if (writer is null) return 1;
        var error = RingTraffic.Produce(writer, seed, count, Patience, out var sum);
        Console.WriteLine(error is null ? $"sent {sum}" : $"error {error}");
        return error is null ? 0 : 1;
    }

    private static int Consume(SharedMemory memory, ulong seed, long count)
    {
        var status = RingReader.TryAttach(memory.Pointer, memory.Length, FutexDoorbell.Instance, out var reader);
        if (reader is null)
        {
            Console.WriteLine($"error {status}");
            return 1;
        }
        var error = RingTraffic.Consume(reader, seed, count, Patience, out var sum);
        Console.WriteLine(error is null ? $"received {sum}" : $"error {error}");
        return error is null ? 0 : 1;
    }

    private static int Hang(SharedMemory memory, ulong seed, long committed)
    {
        var writer = Attach(memory);
        if (writer is null) return 1;
        var error = RingTraffic.Produce(writer, seed, committed, Patience, out var sum);
        if (error is not null)
        {
            Console.WriteLine($"error {error}");
            return 1;
        }
        var status = writer.TryReserve(RingTraffic.Type(committed), writer.Geometry.MaxPayloadLength, out var reservation);
        if (status != RingStatus.Ok)
        {
            Console.WriteLine($"error {status}");
            return 1;
        }
        // Half the payload written, never committed: what a producer killed mid-record leaves behind.
        reservation.Payload[..(reservation.Payload.Length / 2)].Fill(0xEE);
        Console.WriteLine($"reserved {sum}");
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return 0;
    }

    private static int Wake(SharedMemory memory)
    {
        var writer = Attach(memory);
        if (writer is null) return 1;
        Console.WriteLine("ready");
        var go = Task.Run(Console.ReadLine);
        if (!go.Wait(TimeSpan.FromMinutes(2)) || go.Result is null)
        {
            Console.WriteLine("error no go");
            return 1;
        }
        var status = writer.TryWrite(7, "wake up"u8);
        writer.Notify();
        Console.WriteLine(status == RingStatus.Ok ? "sent" : $"error {status}");
        return status == RingStatus.Ok ? 0 : 1;
    }

    private static RingWriter? Attach(SharedMemory memory)
    {
        var status = RingWriter.TryAttach(memory.Pointer, memory.Length, FutexDoorbell.Instance, out var writer);
        if (writer is null) Console.WriteLine($"error {status}");
        return writer;
    }

    private static ulong Seed(string text) => ulong.Parse(text, CultureInfo.InvariantCulture);

    private static long Count(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client ring produce|consume|hang PATH SEED COUNT | test-client ring wake PATH");
        return 2;
    }
}
