using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The memfd of a two-process stream measurement: a bare ring, or a channel whose up ring has the
/// same capacity, so the two measurements differ only by the channel. The bench creates it; its
/// peer opens it by /proc path. Every record starts with its sequence number (8 bytes), which the
/// bench checks: a lost or garbled record fails the measurement instead of flattering it.
/// </summary>
internal sealed unsafe class RingStreamRegion : IDisposable
{
    /// <summary>1 MiB: 16 records of 64 KiB, 16,384 of 64 B; big enough that neither side waits on every record.</summary>
    public const int Capacity = 1 << 20;

    public const int SequenceLength = sizeof(long);

    private readonly SharedMemory _memory;

    private RingStreamRegion(SharedMemory memory, RingStreamKind kind, int recordBytes)
    {
        _memory = memory;
        Kind = kind;
        RecordBytes = recordBytes;
    }

    public RingStreamKind Kind { get; }

    public int RecordBytes { get; }

    /// <summary>The path the peer opens: /proc/PID/fd/N of this process's memfd.</summary>
    public string Path => _memory.ProcPath;

    public byte* Pointer => _memory.Pointer;

    public long Length => _memory.Length;

    /// <summary>The bench's side: a new region holding an empty ring or channel for records of <paramref name="recordBytes"/>.</summary>
    public static RingStreamRegion Create(RingStreamKind kind, int recordBytes)
    {
        CheckRecord(recordBytes);
        var direction = new ChannelDirectionOptions(Capacity, ChannelOverflowPolicy.Block, recordBytes);
        var length = kind == RingStreamKind.Ring ? RingLayout.RegionLength(Capacity) : ChannelLayout.RegionLength(Capacity, Capacity);
        SharedMemory memory;
        try
        {
            memory = SharedMemory.Create("kbridge-bench-stream", length);
        }
        catch (IOException e)
        {
            throw new BenchFailedException($"cannot create the stream's shared memory: {e.Message}");
        }
        if (kind == RingStreamKind.Ring) RingLayout.Initialize(memory.Pointer, memory.Length, new RingOptions(Capacity, recordBytes));
        else ChannelLayout.Initialize(memory.Pointer, memory.Length, new ChannelOptions(direction, direction));
        return new RingStreamRegion(memory, kind, recordBytes);
    }

    /// <summary>The peer's side: the bench's region, mapped by path.</summary>
    public static RingStreamRegion Open(RingStreamKind kind, int recordBytes, string path)
    {
        CheckRecord(recordBytes);
        var memory = SharedMemory.TryOpen(path, ChannelLayout.RegionLength(Capacity, Capacity), out var error)
            ?? throw new BenchFailedException($"cannot map the stream's shared memory {path}: {error}");
        return new RingStreamRegion(memory, kind, recordBytes);
    }

    public void Dispose() => _memory.Dispose();

    private static void CheckRecord(int recordBytes)
    {
        if (recordBytes < SequenceLength || recordBytes > RingLayout.MaxPayloadFor(Capacity))
            throw new BenchFailedException($"a stream record of {recordBytes} bytes: it must be [{SequenceLength}, {RingLayout.MaxPayloadFor(Capacity)}]");
    }
}
