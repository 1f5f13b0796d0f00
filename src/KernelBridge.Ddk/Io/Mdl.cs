namespace KernelBridge.Ddk;

/// <summary>
/// A memory descriptor list: the caller's own buffer, described for direct I/O. Writes through it
/// reach the caller whatever the request's final status.
/// </summary>
public sealed class Mdl
{
    internal Mdl(Memory<byte> memory, ulong userAddress)
    {
        Memory = memory;
        StartVa = userAddress;
    }

    /// <summary>The caller's virtual address (MmGetMdlVirtualAddress).</summary>
    public ulong StartVa { get; }

    /// <summary>MmGetMdlByteCount.</summary>
    public int ByteCount => Memory.Length;

    internal Memory<byte> Memory { get; }
}
