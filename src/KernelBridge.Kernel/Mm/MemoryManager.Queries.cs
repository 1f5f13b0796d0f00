using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Mm;

/// <summary>MEMORY_BASIC_INFORMATION as Mm knows it (the service turns it into the reply).</summary>
internal readonly record struct RegionInformation(ulong BaseAddress, ulong AllocationBase, uint AllocationProtect, ulong RegionSize, uint State,
    uint Protect, uint Type);

internal sealed partial class MemoryManager
{
    /// <summary>
    /// NtQueryVirtualMemory(MemoryBasicInformation) in the view space: a view is one committed,
    /// mapped region; the room between views is free. KernelBridge's Mm knows only this part of a
    /// process's address space; any other address is STATUS_INVALID_PARAMETER.
    /// </summary>
    public NtStatus Query(ProcessObject process, ulong address, out RegionInformation information)
    {
        information = default;
        if (process.Views is not { } space || address < space.BaseAddress || address >= space.End) return NtStatus.STATUS_INVALID_PARAMETER;
        var page = address & ~(ulong)(MemoryAttributes.PageSize - 1);
        if (space.Find(address) is { } view)
        {
            information = new RegionInformation(page, view.BaseAddress, view.Protection, view.End - page, MemoryAttributes.MEM_COMMIT, view.Protection,
                MemoryAttributes.MEM_MAPPED);
            return NtStatus.STATUS_SUCCESS;
        }
        var free = space.FreeRangeAround(address);
        information = new RegionInformation(page, 0, 0, free.Start + free.Length - page, MemoryAttributes.MEM_FREE, PageProtection.PAGE_NOACCESS, 0);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// NtFlushVirtualMemory on a view: the range, rounded to pages, within the view; a paging-file view
    /// has no file to write back to, which Windows reports as STATUS_NOT_MAPPED_DATA (FlushViewOfFile calls it success).
    /// </summary>
    public NtStatus Flush(ProcessObject process, ulong address, ulong length, out ulong start, out ulong flushed)
    {
        start = flushed = 0;
        if (process.Views?.Find(address) is not { } view) return NtStatus.STATUS_NOT_MAPPED_VIEW;
        start = address & ~(ulong)(MemoryAttributes.PageSize - 1);
        var end = length == 0 ? view.End : RoundToPage(address + length);
        if (end > view.End || end < address) return NtStatus.STATUS_NOT_MAPPED_VIEW;
        flushed = end - start;
        return NtStatus.STATUS_NOT_MAPPED_DATA;
    }
}
