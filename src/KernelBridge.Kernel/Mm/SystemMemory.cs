using System.Buffers;

namespace KernelBridge.Kernel.Mm;

/// <summary>
/// Kernel-space memory (a section's mapping in the kernel process) as the Memory&lt;byte&gt; the Ddk
/// hands drivers. It never owns the memory: the section does, and outlives every view of it.
/// </summary>
internal sealed unsafe class SystemMemory(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length);
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
