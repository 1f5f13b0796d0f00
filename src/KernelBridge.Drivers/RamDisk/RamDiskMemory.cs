using System.Runtime.InteropServices;

namespace KernelBridge.Drivers.RamDisk;

/// <summary>
/// The disk's bytes: one native block, zeroed, that the garbage collector never moves, so a
/// transfer is one memcpy between it and the request's buffer. It is freed once, at unload, and
/// never under a copy: each copy holds a reference for its duration and the last one out frees
/// the block (the idea of ExAcquireRundownProtection, without the wait), because KernelBridge
/// calls DriverUnload while requests may still be running.
/// </summary>
public sealed unsafe class RamDiskMemory : IDisposable
{
    private readonly byte* _start;
    /// <summary>The owner's reference plus one per copy under way; 0 once the block is freed.</summary>
    private int _references = 1;
    private int _disposed;

    private RamDiskMemory(byte* start, long length)
    {
        _start = start;
        Length = length;
    }

    public long Length { get; }

    /// <summary>The block has been given back.</summary>
    public bool IsFreed => Volatile.Read(ref _references) == 0;

    /// <summary>
    /// A zeroed block of <paramref name="length"/> bytes, or null if there is no memory for it.
    /// calloc takes a large block straight from mmap, so pages cost nothing until first written.
    /// </summary>
    public static RamDiskMemory? TryAllocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        try
        {
            return new RamDiskMemory((byte*)NativeMemory.AllocZeroed((nuint)length), length);
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>Copies the bytes at <paramref name="offset"/> into <paramref name="destination"/>; false once the block is freed.</summary>
    public bool TryCopyOut(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (!TryAcquire()) return false;
        new ReadOnlySpan<byte>(_start + offset, destination.Length).CopyTo(destination);
        Release();
        return true;
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="offset"/>; false once the block is freed.</summary>
    public bool TryCopyIn(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        if (!TryAcquire()) return false;
        source.CopyTo(new Span<byte>(_start + offset, source.Length));
        Release();
        return true;
    }

    /// <summary>No new copies start; the block goes now, or when the copies under way end.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }

    private bool TryAcquire()
    {
        var references = Volatile.Read(ref _references);
        // A copy may start only while the block is alive and not being given back.
        while (references > 0 && Volatile.Read(ref _disposed) == 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references) return true;
            references = seen;
        }
        return false;
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) NativeMemory.Free(_start);
    }

    /// <summary>The driver checks every request against the media first: a range outside the block here is a bug.</summary>
    private void CheckRange(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} do not lie in a {Length}-byte disk");
    }
}
