using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>Page priority for <see cref="Mm.GetSystemAddressForMdlSafe"/>.</summary>
public enum MmPagePriority
{
    LowPagePriority = 0,
    NormalPagePriority = 16,
    HighPagePriority = 32,
}

/// <summary>MEMORY_CACHING_TYPE.</summary>
public enum MemoryCachingType
{
    MmNonCached = 0,
    MmCached = 1,
    MmWriteCombined = 2,
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

    /// <summary>
    /// MmMapViewInSystemSpace: a view of <paramref name="section"/> in kernel space (its bytes through
    /// <see cref="SystemMemory"/>). <paramref name="viewSize"/> 0 maps all of it and comes back rounded to pages.
    /// </summary>
    public static NtStatus MapViewInSystemSpace(SectionObject section, out ulong mappedBase, ref ulong viewSize) =>
        KernelRuntime.Of(section).MapViewInSystemSpace(section, out mappedBase, ref viewSize);

    public static NtStatus UnmapViewInSystemSpace(ulong mappedBase) => KernelRuntime.Current.UnmapViewInSystemSpace(mappedBase);

    /// <summary>
    /// MmMapViewOfSection into the current (requesting) process: the whole section, or <paramref name="viewSize"/>
    /// bytes, at an address the kernel chooses (or <paramref name="baseAddress"/>); unmap with Zw.UnmapViewOfSection(Zw.CurrentProcess, address).
    /// </summary>
    public static NtStatus MapViewOfSection(SectionObject section, ref ulong baseAddress, ref ulong viewSize, uint protection) =>
        KernelRuntime.Of(section).MapSectionIntoCurrentProcess(section, ref baseAddress, ref viewSize, protection);

    /// <summary>The bytes at a kernel-space address (a system view, or allocated pages' StartVa): what a C driver would dereference.</summary>
    public static Memory<byte> SystemMemory(ulong address, int length) => KernelRuntime.Current.SystemMemory(address, length);

    /// <summary>
    /// MmAllocatePagesForMdlEx: zeroed pages the driver owns, described by an MDL, that it can map into a
    /// user process with <see cref="MapLockedPagesSpecifyCache"/>; null when there is no memory. Free with <see cref="FreePagesFromMdl"/>.
    /// </summary>
    public static Mdl? AllocatePagesForMdl(long totalBytes) => KernelRuntime.Current.AllocatePagesForMdl(totalBytes);

    /// <summary>MmFreePagesFromMdl: the pages go once every mapping of them has gone.</summary>
    public static void FreePagesFromMdl(Mdl mdl) => KernelRuntime.Current.FreePagesFromMdl(mdl ?? throw new ArgumentNullException(nameof(mdl)));

    /// <summary>
    /// MmMapLockedPagesSpecifyCache: maps the MDL's pages into the current (requesting) process for
    /// UserMode, or returns their system address for KernelMode; 0 on failure (only pages from
    /// <see cref="AllocatePagesForMdl"/> can be mapped into a process here). Unmap with <see cref="UnmapLockedPages"/>
    /// in the same process's context (IRP_MJ_CLEANUP is).
    /// </summary>
    public static ulong MapLockedPagesSpecifyCache(Mdl mdl, ProcessorMode accessMode, MemoryCachingType cacheType = MemoryCachingType.MmCached,
        ulong requestedAddress = 0, bool bugCheckOnFailure = false, MmPagePriority priority = MmPagePriority.NormalPagePriority)
    {
        ArgumentNullException.ThrowIfNull(mdl);
        _ = (cacheType, requestedAddress, bugCheckOnFailure, priority);
        return KernelRuntime.Current.MapLockedPagesSpecifyCache(mdl, accessMode);
    }

    public static void UnmapLockedPages(ulong baseAddress, Mdl mdl) =>
        KernelRuntime.Current.UnmapLockedPages(baseAddress, mdl ?? throw new ArgumentNullException(nameof(mdl)));

    public static int GetMdlByteCount(Mdl mdl) => mdl?.ByteCount ?? throw new ArgumentNullException(nameof(mdl));
}
