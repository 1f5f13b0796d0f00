using System.Runtime.InteropServices;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Benchmarks;

/// <summary>A ring in page-aligned native memory of its own, with its writer and reader (no doorbell: both sides poll).</summary>
public sealed unsafe class BenchRing : IDisposable
{
    public BenchRing(RingOptions options)
    {
        var length = RingLayout.RegionLength(options.Capacity);
        Region = (byte*)NativeMemory.AlignedAlloc((nuint)length, 4096);
        RingLayout.Initialize(Region, length, options);
        RingWriter.TryAttach(Region, length, null, out var writer);
        RingReader.TryAttach(Region, length, null, out var reader);
        Writer = writer!;
        Reader = reader!;
    }

    public byte* Region { get; }
    public RingHeader* Header => (RingHeader*)Region;
    public RingWriter Writer { get; }
    public RingReader Reader { get; }

    public void Dispose() => NativeMemory.AlignedFree(Region);
}
