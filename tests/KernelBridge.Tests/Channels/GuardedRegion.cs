using System.Runtime.InteropServices;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// Private memory whose last byte is the last of a page followed by an inaccessible page: any read
/// or write past the region's end faults at once (and takes the test run down), instead of
/// landing quietly in whatever memory comes next. What "never reads out of bounds" is tested with.
/// </summary>
public sealed unsafe partial class GuardedRegion : IDisposable
{
    private const int PROT_NONE = 0;
    private const int PROT_READ = 1;
    private const int PROT_WRITE = 2;
    private const int MAP_PRIVATE = 0x02;
    private const int MAP_ANONYMOUS = 0x20;

    private readonly byte* _mapping;
    private readonly nuint _mappingLength;

    public GuardedRegion(long length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        long page = Environment.SystemPageSize;
        var pages = (length + page - 1) / page;
        _mappingLength = (nuint)((pages + 1) * page);
        _mapping = (byte*)mmap(null, _mappingLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (_mapping == (byte*)-1) throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        if (mprotect(_mapping + pages * page, (nuint)page, PROT_NONE) != 0)
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        Pointer = _mapping + pages * page - length;
        Length = length;
    }

    /// <summary>The region's first byte; the byte after its last is a guard page.</summary>
    public byte* Pointer { get; }

    public long Length { get; }

    public Span<byte> Bytes => new(Pointer, checked((int)Length));

    public void Dispose() => munmap(_mapping, _mappingLength);

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* address, nuint length);
}
