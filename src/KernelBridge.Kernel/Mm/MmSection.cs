using KernelBridge.Platform;

namespace KernelBridge.Kernel.Mm;

/// <summary>
/// A paging-file section as the memory manager keeps it: a sealed memfd of the section's size, mapped
/// once, read-write, into kernel space (what system views point into). User views map the same
/// memfd; the memory goes when the last handle and the last view have gone.
/// </summary>
internal sealed class MmSection(long maximumSize, uint pageProtection, uint allocationAttributes, SharedMemory memory)
    : SectionObject(maximumSize, pageProtection, allocationAttributes)
{
    /// <summary>The memfd and the kernel's mapping of all of it.</summary>
    public SharedMemory Memory { get; } = memory;

    /// <summary>Bytes the memfd holds (the size rounded up to a page).</summary>
    public long CommittedBytes => Memory.Length;

    public override string ToString() => $"section of {MaximumSize} bytes";
}
