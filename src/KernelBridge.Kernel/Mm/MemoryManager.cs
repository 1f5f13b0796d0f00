using System.Collections.Concurrent;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Mm;

/// <summary>
/// Mm: paging-file sections and their views, in user processes (placed in the view space each
/// client reserved, mapped by its client library on instruction) and in kernel space (pointers
/// into the kernel's own mapping of the section). A view holds a reference on its section, so the
/// memory lives while any handle or view does; process rundown drops the process's views.
/// </summary>
internal sealed partial class MemoryManager
{
    private readonly ObjectManager _ob;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, MappedView> _systemViews = new();
    private int _sections;
    private long _sectionBytes;
    private int _views;
    private long _viewBytes;

    public MemoryManager(ObjectManager ob, ILogger logger, long maxSectionSize)
    {
        _ob = ob;
        _logger = logger;
        MaxSectionSize = maxSectionSize;
        ob.SetProcedures(ObjectTypes.Section, new SectionProcedures(this));
    }

    /// <summary>The largest section this kernel creates (a larger one is STATUS_SECTION_TOO_BIG).</summary>
    public long MaxSectionSize { get; }

    public int Sections => Volatile.Read(ref _sections);
    public long SectionBytes => Interlocked.Read(ref _sectionBytes);

    /// <summary>Views mapped now, user and system.</summary>
    public int Views => Volatile.Read(ref _views);
    public long ViewBytes => Interlocked.Read(ref _viewBytes);

    /// <summary>
    /// NtCreateSection's checks and the section itself (not yet tracked or named). Only paging-file
    /// sections exist here: a file handle is refused.
    /// </summary>
    public NtStatus CreateSection(long maximumSize, uint protection, uint attributes, long fileHandle, out MmSection? section)
    {
        section = null;
        const uint kinds = MemoryAttributes.SEC_COMMIT | MemoryAttributes.SEC_RESERVE | MemoryAttributes.SEC_IMAGE;
        const uint modifiers = MemoryAttributes.SEC_NOCACHE | MemoryAttributes.SEC_WRITECOMBINE;
        var kind = attributes & kinds;
        if ((attributes & ~(kinds | modifiers)) != 0 || kind == 0 || (kind & (kind - 1)) != 0
            || (kind == MemoryAttributes.SEC_IMAGE && attributes != MemoryAttributes.SEC_IMAGE))
            return NtStatus.STATUS_INVALID_PARAMETER_6;
        if (!PageProtections.IsValidForSection(protection)) return NtStatus.STATUS_INVALID_PAGE_PROTECTION;
        if (fileHandle != 0 || kind == MemoryAttributes.SEC_IMAGE) return NtStatus.STATUS_INVALID_FILE_FOR_SECTION;
        if (maximumSize == 0) return NtStatus.STATUS_INVALID_PARAMETER_4;
        if (maximumSize < 0 || maximumSize > MaxSectionSize) return NtStatus.STATUS_SECTION_TOO_BIG;
        var committed = RoundToPage((ulong)maximumSize);
        SharedMemory memory;
        try
        {
            memory = SharedMemory.Create("kernelbridge-section", (long)committed);
        }
        catch (IOException e)
        {
            LogNoMemory(maximumSize, e.Message);
            return NtStatus.STATUS_COMMITMENT_LIMIT;
        }
        // SEC_RESERVE is honoured as SEC_COMMIT: the memfd's pages appear when first touched either way.
        section = new MmSection(maximumSize, protection, attributes, memory);
        Interlocked.Increment(ref _sections);
        Interlocked.Add(ref _sectionBytes, (long)committed);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The last reference went: the kernel's mapping and the memfd go (user mappings of it stay valid until unmapped).</summary>
    public void SectionDeleted(MmSection section)
    {
        Interlocked.Decrement(ref _sections);
        Interlocked.Add(ref _sectionBytes, -section.CommittedBytes);
        section.Memory.Dispose();
    }

    /// <summary>
    /// The checks NtMapViewOfSection makes on a view's protection, offset and size against a section;
    /// on success, <paramref name="offset"/> and <paramref name="viewSize"/> are what will be mapped.
    /// </summary>
    public static NtStatus CheckView(MmSection section, uint protection, long offset, ref ulong viewSize)
    {
        if (!PageProtections.IsValid(protection)) return NtStatus.STATUS_INVALID_PAGE_PROTECTION;
        if (offset < 0 || offset % MemoryAttributes.AllocationGranularity != 0) return NtStatus.STATUS_MAPPED_ALIGNMENT;
        if ((PageProtections.CompatibleWith(section.PageProtection) & protection & 0xFF) == 0) return NtStatus.STATUS_SECTION_PROTECTION;
        var size = RoundToPage((ulong)section.MaximumSize);
        if ((ulong)offset >= size) return NtStatus.STATUS_INVALID_VIEW_SIZE;
        if (viewSize == 0) viewSize = size - (ulong)offset;
        else if (viewSize > size - (ulong)offset) return NtStatus.STATUS_INVALID_VIEW_SIZE;
        viewSize = RoundToPage(viewSize);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// Maps a view of <paramref name="section"/> into a user process (the handle's access was checked
    /// by the caller): placed in its view space, recorded, and the process told to map it before it
    /// hears anything else from the kernel.
    /// </summary>
    public NtStatus MapUserView(ProcessObject process, MmSection section, uint protection, ref ulong baseAddress, long offset, ref ulong viewSize)
    {
        if (baseAddress % MemoryAttributes.AllocationGranularity != 0) return NtStatus.STATUS_MAPPED_ALIGNMENT;
        var status = CheckView(section, protection, offset, ref viewSize);
        if (!status.IsSuccess) return status;
        if (process.Views is not { Mapper: { } mapper } space) return NtStatus.STATUS_NO_MEMORY;
        var length = viewSize;
        // A view's bytes are charged to the process (as its commitment would be): past its quota,
        // STATUS_QUOTA_EXCEEDED, what a failed process quota charge returns. Returned when the view goes.
        if (length > long.MaxValue || !process.Quota.TryChargeMappedBytes((long)length)) return NtStatus.STATUS_QUOTA_EXCEEDED;
        var view = space.TryInsert(baseAddress, length, address => new MappedView(section, address, length, offset, protection), out var conflict);
        if (view is null)
        {
            process.Quota.ReturnMappedBytes((long)length);
            return conflict ? NtStatus.STATUS_CONFLICTING_ADDRESSES : NtStatus.STATUS_NO_MEMORY;
        }
        ObjectManager.Reference(section);
        Counted(view, +1);
        if (!mapper.Map(view.BaseAddress, view.Length, view.SectionOffset, protection, section.Memory.Descriptor))
        {
            // The process is going: rundown takes the view back.
            return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        }
        baseAddress = view.BaseAddress;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>NtUnmapViewOfSection: the view holding <paramref name="address"/> goes, in the process and here.</summary>
    public NtStatus UnmapUserView(ProcessObject process, ulong address)
    {
        if (process.Views?.Remove(address) is not { } view) return NtStatus.STATUS_NOT_MAPPED_VIEW;
        process.Views.Mapper?.Unmap(view.BaseAddress, view.Length);
        process.Quota.ReturnMappedBytes((long)view.Length);
        Release(view);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// A user buffer that lies in one of the process's views, as kernel memory (no copy): the I/O
    /// manager's probe-and-lock. The section comes back referenced (pinned) so the memory stays
    /// while the request uses it, even if the process unmaps the view. A buffer the device will
    /// write needs a writable shared view; a copy-on-write view's private pages are the process's
    /// own, so such a view is never used this way. Anything else is STATUS_ACCESS_VIOLATION.
    /// </summary>
    public static NtStatus ResolveUserBuffer(ProcessObject process, ulong address, uint length, bool deviceWrites, out Memory<byte> memory,
        out MmSection? pinned)
    {
        memory = default;
        pinned = null;
        if (process.Views?.Find(address) is not { } view || length > view.End - address || address - view.BaseAddress + length > int.MaxValue)
            return NtStatus.STATUS_ACCESS_VIOLATION;
        var protection = view.Protection & 0xFF;
        var readable = protection is PageProtection.PAGE_READONLY or PageProtection.PAGE_READWRITE or PageProtection.PAGE_EXECUTE_READ
            or PageProtection.PAGE_EXECUTE_READWRITE;
        var writable = protection is PageProtection.PAGE_READWRITE or PageProtection.PAGE_EXECUTE_READWRITE;
        if (deviceWrites ? !writable : !readable) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!ObjectManager.TryReference(view.Section)) return NtStatus.STATUS_ACCESS_VIOLATION;
        pinned = view.Section;
        memory = view.KernelMemory.Slice((int)(address - view.BaseAddress), (int)length);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Process rundown: its memory is gone with it; the views' references on their sections go now.</summary>
    public void Rundown(ProcessObject process)
    {
        if (process.Views is not { } space) return;
        foreach (var view in space.Close())
        {
            process.Quota.ReturnMappedBytes((long)view.Length);
            Release(view);
        }
    }

    /// <summary>
    /// MmMapViewInSystemSpace: a mapping of the section's memory of its own in the kernel process, so
    /// every system view has its own address (two views of one section are two addresses, as on Windows).
    /// </summary>
    public unsafe NtStatus MapSystemView(MmSection section, long offset, ref ulong viewSize, out ulong address)
    {
        address = 0;
        var status = CheckView(section, PageProtection.PAGE_READWRITE, offset, ref viewSize);
        if (!status.IsSuccess) return status;
        var mapping = Libc.MapSharedAt((int)section.Memory.Descriptor.DangerousGetHandle(), (long)viewSize, offset, out var errno);
        if (mapping is null)
        {
            LogNoMemory((long)viewSize, $"mmap of a system view failed: errno {errno}");
            return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
        }
        var view = new MappedView(section, (ulong)mapping, viewSize, offset, PageProtection.PAGE_READWRITE);
        ObjectManager.Reference(section);
        _systemViews[view.BaseAddress] = view;
        Counted(view, +1);
        address = view.BaseAddress;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>MmUnmapViewInSystemSpace.</summary>
    public unsafe NtStatus UnmapSystemView(ulong address)
    {
        if (!_systemViews.TryRemove(address, out var view)) return NtStatus.STATUS_NOT_MAPPED_VIEW;
        Libc.Unmap((byte*)view.BaseAddress, (long)view.Length);
        Release(view);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The bytes at a kernel-space address, if [address, address + length) lies inside one system view.</summary>
    public unsafe Memory<byte>? SystemMemoryAt(ulong address, int length)
    {
        if (FindSystemView(address) is not { } view || length < 0 || (ulong)length > view.End - address) return null;
        return new SystemMemory((byte*)address, length).Memory;
    }

    /// <summary>A view in the kernel's own space that holds <paramref name="address"/>, if any.</summary>
    public MappedView? FindSystemView(ulong address)
    {
        foreach (var view in _systemViews.Values)
            if (view.Contains(address)) return view;
        return null;
    }

    private void Release(MappedView view)
    {
        Counted(view, -1);
        _ob.Dereference(view.Section);
    }

    private void Counted(MappedView view, int sign)
    {
        Interlocked.Add(ref _views, sign);
        Interlocked.Add(ref _viewBytes, sign * (long)view.Length);
    }

    public static ulong RoundToPage(ulong length) => (length + MemoryAttributes.PageSize - 1) & ~(ulong)(MemoryAttributes.PageSize - 1);

    [LoggerMessage(EventId = 520, Level = LogLevel.Warning, Message = "no memory for a section of {Size} bytes: {Reason}")]
    private partial void LogNoMemory(long size, string reason);
}
