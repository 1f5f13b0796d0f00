namespace KernelBridge.Ddk;

/// <summary>
/// A memory descriptor list: the caller's own buffer, described for direct I/O (writes through it
/// reach the caller whatever the request's final status), or pages a driver allocated
/// (<see cref="Mm.AllocatePagesForMdl"/>) that it can map into a user process.
/// </summary>
public sealed class Mdl
{
    internal Mdl(Memory<byte> memory, ulong userAddress)
    {
        Memory = memory;
        StartVa = userAddress;
    }

    internal Mdl(Memory<byte> memory, ulong systemAddress, SectionObject pages)
    {
        Memory = memory;
        StartVa = systemAddress;
        Pages = pages;
    }

    /// <summary>The virtual address the buffer starts at (MmGetMdlVirtualAddress): the caller's, or the system address of allocated pages.</summary>
    public ulong StartVa { get; }

    /// <summary>MmGetMdlByteCount.</summary>
    public int ByteCount => Memory.Length;

    internal Memory<byte> Memory { get; }

    /// <summary>The shared memory behind pages from <see cref="Mm.AllocatePagesForMdl"/> (what lets them be mapped into a process).</summary>
    internal SectionObject? Pages { get; set; }
}
