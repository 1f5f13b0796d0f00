using KernelBridge.Abi;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Memory;

/// <summary>
/// I/O buffers in memory the kernel shares: one section per connection, mapped once, handed out in
/// 64 KiB granules. A read or write on one of these buffers goes by reference (the driver works in
/// it, nothing is copied); the Win32 layer also bounces large synchronous transfers on ordinary
/// memory through it, so they are copied once, never twice.
/// </summary>
public sealed unsafe class IoBufferPool : IDisposable
{
    /// <summary>The size of the pool's section.</summary>
    public const int DefaultLength = 16 << 20;

    /// <summary>Granules handed out: the allocation granularity, so a buffer never shares its first page with another.</summary>
    public const int Granule = 64 * 1024;

    /// <summary>Transfers at least this long on ordinary memory are bounced through the pool.</summary>
    public const int BounceThreshold = 64 * 1024;

    private readonly Section _section;
    private readonly SectionView _view;
    private readonly bool[] _used;
    private readonly Lock _lock = new();

    private IoBufferPool(Section section, SectionView view)
    {
        _section = section;
        _view = view;
        _used = new bool[view.Length / Granule];
    }

    internal static IoBufferPool Create(GateClient gate, int length = DefaultLength)
    {
        var section = Section.Create(length, gate: gate);
        try
        {
            return new IoBufferPool(section, section.MapView());
        }
        catch
        {
            section.Dispose();
            throw;
        }
    }

    /// <summary>The bytes the pool spans.</summary>
    public long Length => _view.Length;

    /// <summary>A buffer of <paramref name="length"/> bytes, or null when the pool has no run that long free.</summary>
    public IoBuffer? TryRent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var count = (length + Granule - 1) / Granule;
        lock (_lock)
        {
            var run = 0;
            for (var i = 0; i < _used.Length; i++)
            {
                run = _used[i] ? 0 : run + 1;
                if (run < count) continue;
                var first = i - count + 1;
                for (var j = first; j <= i; j++) _used[j] = true;
                return new IoBuffer(this, (byte*)_view.Address + (long)first * Granule, length, first, count);
            }
        }
        return null;
    }

    /// <summary>As <see cref="TryRent"/>; throws <see cref="InsufficientMemoryException"/> when the pool is exhausted.</summary>
    public IoBuffer Rent(int length) =>
        TryRent(length) ?? throw new InsufficientMemoryException($"no {length}-byte run free in the {Length}-byte I/O buffer pool");

    internal void Return(int first, int count)
    {
        lock (_lock)
        {
            for (var j = first; j < first + count; j++) _used[j] = false;
        }
    }

    /// <summary>
    /// A buffer to bounce a transfer on ordinary memory through, or null when it should go as it is:
    /// too short to be worth it, not a plain synchronous call (on a synchronous file, with no event or
    /// APC to tell anyone before the caller's buffer is written), or the pool is full. The caller's
    /// buffer is filled when the call returns, a moment after the IOSB and the file object's own event
    /// say the read is done: another thread that watches those (or a completion port bound to a
    /// synchronous file) rather than the call's return could look too early. Code that does that
    /// should read into an <see cref="IoBuffer"/> itself.
    /// </summary>
    internal static IoBuffer? ForBounce(GateClient gate, uint handleFacts, nint @event, nint apcRoutine, nint apcContext, void* buffer, uint length)
    {
        _ = apcContext;
        if (length < BounceThreshold || buffer is null || (handleFacts & HandleFacts.SynchronousFile) == 0) return null;
        if (@event != 0 || apcRoutine != 0) return null;
        return gate.IoBuffers?.TryRent((int)length);
    }

    public void Dispose()
    {
        _view.Dispose();
        _section.Dispose();
    }
}

/// <summary>A buffer from an <see cref="IoBufferPool"/>: I/O on it goes by reference. Disposing gives it back.</summary>
public sealed unsafe class IoBuffer : IDisposable
{
    private readonly IoBufferPool _pool;
    private readonly int _first;
    private readonly int _count;
    private int _returned;

    internal IoBuffer(IoBufferPool pool, byte* pointer, int length, int first, int count)
    {
        _pool = pool;
        Pointer = pointer;
        Length = length;
        _first = first;
        _count = count;
    }

    /// <summary>The buffer's first byte (valid until disposed).</summary>
    public byte* Pointer { get; }

    public int Length { get; }

    public Span<byte> Span => new(Pointer, Length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0) _pool.Return(_first, _count);
    }
}
