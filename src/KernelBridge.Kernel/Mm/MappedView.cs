namespace KernelBridge.Kernel.Mm;

/// <summary>
/// One view (a VAD of a mapped section): where it lies, what part of the section it shows, and the
/// protection it was mapped with. A view holds a reference on its section.
/// </summary>
internal sealed record MappedView(MmSection Section, ulong BaseAddress, ulong Length, long SectionOffset, uint Protection)
{
    private Memory<byte>? _kernelMemory;

    public ulong End => BaseAddress + Length;

    public bool Contains(ulong address) => address >= BaseAddress && address < End;

    /// <summary>
    /// The view's bytes as the kernel reaches them (its own mapping of the section), made once: what
    /// I/O on a buffer inside the view works in, with no copy. Views over 2 GiB expose their first 2 GiB.
    /// </summary>
    public unsafe Memory<byte> KernelMemory => _kernelMemory ??=
        new SystemMemory(Section.Memory.Pointer + SectionOffset, (int)Math.Min(Length, (ulong)int.MaxValue)).Memory;
}
