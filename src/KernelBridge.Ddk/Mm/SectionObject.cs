using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// A section (SECTION): memory that views in the kernel and in user processes share. Drivers get one
/// from <see cref="Zw.CreateSection"/> or by handle (<see cref="ObjectTypes.Section"/>); only the
/// memory manager makes them.
/// </summary>
public abstract class SectionObject : KernelObject
{
    internal SectionObject(long maximumSize, uint pageProtection, uint allocationAttributes) : base(ObjectTypes.Section)
    {
        MaximumSize = maximumSize;
        PageProtection = pageProtection;
        AllocationAttributes = allocationAttributes;
    }

    /// <summary>The size the section was created with (SECTION_BASIC_INFORMATION.MaximumSize).</summary>
    public long MaximumSize { get; }

    /// <summary>The PAGE_* protection every view is bounded by.</summary>
    public uint PageProtection { get; }

    /// <summary>SEC_* attributes (SEC_COMMIT for a paging-file section).</summary>
    public uint AllocationAttributes { get; }
}
