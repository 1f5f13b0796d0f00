namespace KernelBridge.Kernel.Mm;

/// <summary>
/// One view (a VAD of a mapped section): where it lies, what part of the section it shows, and the
/// protection it was mapped with. A view holds a reference on its section.
/// </summary>
internal sealed record MappedView(MmSection Section, ulong BaseAddress, ulong Length, long SectionOffset, uint Protection)
{
    public ulong End => BaseAddress + Length;

    public bool Contains(ulong address) => address >= BaseAddress && address < End;
}
