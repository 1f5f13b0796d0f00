using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Tests.Rings;

/// <summary>The memfd the rings live in: zero-filled, size-sealed, mapped by another descriptor or path, and refused when a peer's file could shrink under us.</summary>
public sealed unsafe class SharedMemoryTests
{
    [Fact]
    public void A_new_region_is_zero_filled_and_sealed_against_resizing()
    {
        using var memory = SharedMemory.Create("kb-test", 8192);
        Assert.Equal(8192, memory.Length);
        Assert.True(new ReadOnlySpan<byte>(memory.Pointer, 8192).IndexOfAnyExcept((byte)0) < 0);
        var fd = (int)memory.Descriptor.DangerousGetHandle();
        var seals = Libc.Seals(fd);
        Assert.Equal(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL, seals);
        Assert.NotEqual(0, Libc.Truncate(fd, 100)); // a peer cannot shrink it (no SIGBUS for the other side)
    }

    [Fact]
    public void A_region_opened_by_its_proc_path_is_the_same_memory()
    {
        using var memory = SharedMemory.Create("kb-test", 4096);
        using var other = SharedMemory.TryOpen(memory.ProcPath, 1 << 20, out var error);
        Assert.True(other is not null, error);
        Assert.Equal(4096, other.Length);
        Assert.True(other.Pointer != memory.Pointer);
        memory.Pointer[4000] = 0x7E;
        Assert.Equal(0x7E, other.Pointer[4000]);
    }

    [Fact]
    public void A_memfd_that_is_not_size_sealed_is_refused()
    {
        var fd = Libc.CreateMemoryFile("kb-unsealed", out var errno);
        Assert.True(fd >= 0, $"errno {errno}");
        Assert.Equal(0, Libc.Truncate(fd, 4096));
        Assert.Null(SharedMemory.TryMap(new SafeFileHandle(fd, ownsHandle: true), 1 << 20, out var error));
        Assert.Contains("sealed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memfd_larger_than_allowed_or_a_path_that_is_not_one_is_refused()
    {
        using var memory = SharedMemory.Create("kb-test", 8192);
        Assert.Null(SharedMemory.TryOpen(memory.ProcPath, 4096, out var error));
        Assert.Contains("8192", error, StringComparison.Ordinal);
        Assert.Null(SharedMemory.TryOpen("/proc/self/no-such-fd", 4096, out error));
        Assert.Contains("cannot open", error, StringComparison.Ordinal);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[4096]);
            Assert.Null(SharedMemory.TryOpen(path, 1 << 20, out error)); // a plain file has no seals
        }
        finally
        {
            File.Delete(path);
        }
    }
}
