using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// A ring in a memfd of its own, with a writer and a reader attached, and raw access to the
/// header and data area for the tests that play the hostile peer.
/// </summary>
public sealed unsafe class TestRing : IDisposable
{
    public TestRing(RingOptions options, IRingDoorbell? doorbell = null)
    {
        Memory = SharedMemory.Create("kb-test-ring", RingLayout.RegionLength(options.Capacity));
        RingLayout.Initialize(Memory.Pointer, Memory.Length, options);
        Assert.Equal(RingStatus.Ok, RingWriter.TryAttach(Memory.Pointer, Memory.Length, doorbell, out var writer));
        Assert.Equal(RingStatus.Ok, RingReader.TryAttach(Memory.Pointer, Memory.Length, doorbell, out var reader));
        Writer = writer!;
        Reader = reader!;
    }

    public SharedMemory Memory { get; }
    public RingWriter Writer { get; }
    public RingReader Reader { get; }
    public RingHeader* Header => (RingHeader*)Memory.Pointer;
    public byte* Data => Memory.Pointer + RingLayout.HeaderLength;
    public long Tail => Volatile.Read(ref Header->Tail);
    public long Head => Volatile.Read(ref Header->Head);
    public int ConsumerSleeping => Volatile.Read(ref Header->ConsumerSleeping);
    public int ProducersSleeping => Volatile.Read(ref Header->ProducersSleeping);
    public uint DataSignal => Volatile.Read(ref Header->DataSignal);
    public uint SpaceSignal => Volatile.Read(ref Header->SpaceSignal);
    public RingRecordHeader* RecordAt(long position) => (RingRecordHeader*)(Data + (position & (Header->Capacity - 1)));

    public static RingOptions Options(int capacity, bool multiProducer, int maxPayload = 0, int fixedPayload = 0) =>
        new(capacity, maxPayload, fixedPayload, multiProducer);

    /// <summary>Writes a record whose payload is <paramref name="length"/> copies of <paramref name="fill"/>.</summary>
    public RingStatus Write(int type, int length, byte fill = 0x5A)
    {
        var status = Writer.TryReserve(type, length, out var reservation);
        if (status != RingStatus.Ok) return status;
        reservation.Payload.Fill(fill);
        reservation.Commit();
        return status;
    }

    /// <summary>Reads one record and returns (status, type, payload copy).</summary>
    public (RingStatus Status, int Type, byte[] Payload) Read()
    {
        var status = Reader.TryRead(out var record);
        return status == RingStatus.Ok ? (status, record.Type, record.Payload.ToArray()) : (status, 0, []);
    }

    public void Dispose() => Memory.Dispose();
}
