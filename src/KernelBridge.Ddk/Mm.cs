namespace KernelBridge.Ddk;

/// <summary>Page priority for <see cref="Mm.GetSystemAddressForMdlSafe"/>.</summary>
public enum MmPagePriority
{
    LowPagePriority = 0,
    NormalPagePriority = 16,
    HighPagePriority = 32,
}

/// <summary>The memory manager's exports (Mm*).</summary>
public static class Mm
{
    /// <summary>MmGetSystemAddressForMdlSafe: the caller's buffer, as the driver may read and write it.</summary>
    public static Memory<byte> GetSystemAddressForMdlSafe(Mdl mdl, MmPagePriority priority = MmPagePriority.NormalPagePriority)
    {
        ArgumentNullException.ThrowIfNull(mdl);
        _ = priority;
        return mdl.Memory;
    }

    public static ulong GetMdlVirtualAddress(Mdl mdl) => mdl?.StartVa ?? throw new ArgumentNullException(nameof(mdl));

    public static int GetMdlByteCount(Mdl mdl) => mdl?.ByteCount ?? throw new ArgumentNullException(nameof(mdl));
}
