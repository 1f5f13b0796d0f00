using KernelBridge.Kernel.Mm;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel;

/// <summary>Zw* handles and sections, and Mm* views and pages, as drivers reach them.</summary>
internal sealed partial class DdkExports
{
    /// <summary>
    /// Whose table a handle is in: a kernel handle is the System process's (for kernel-mode callers
    /// only); any other is the current process's, or the System process's outside any request.
    /// </summary>
    private (ProcessObject? Process, ThreadObject? Thread, long Handle) HandleOwner(long handle, ProcessorMode mode)
    {
        if (KernelHandles.IsKernel(handle))
            return mode == ProcessorMode.KernelMode ? (processes.System, null, KernelHandles.FromKernel(handle)) : (null, null, 0);
        return CurrentContext.Process is { } process ? (process, CurrentContext.Thread, handle) : (processes.System, null, handle);
    }

    /// <summary>Where a new handle goes: the System process's table for OBJ_KERNEL_HANDLE (or outside any request), else the requesting process's.</summary>
    private (ProcessObject Process, ThreadObject? Thread, bool Kernel) NewHandleOwner(uint attributes)
    {
        var kernel = (attributes & (uint)ObjectAttributeFlags.OBJ_KERNEL_HANDLE) != 0 || CurrentContext.Process is null;
        return kernel ? (processes.System, null, true) : (CurrentContext.Process!, CurrentContext.Thread, false);
    }

    public NtStatus CloseHandle(long handle)
    {
        var (process, _, value) = HandleOwner(handle, ProcessorMode.KernelMode);
        return process is null ? NtStatus.STATUS_INVALID_HANDLE : ob.CloseHandle(process, value);
    }

    public NtStatus CreateSection(out long sectionHandle, uint desiredAccess, string? objectName, uint attributes, long maximumSize, uint protection,
        uint allocationAttributes, long fileHandle)
    {
        sectionHandle = 0;
        var status = mm.CreateSection(maximumSize, protection, allocationAttributes, fileHandle, out var section);
        if (!status.IsSuccess) return status;
        var (process, thread, kernel) = NewHandleOwner(attributes);
        status = ob.InsertObject(process, thread, ob.Track(section!), 0, objectName, attributes & ~(uint)ObjectAttributeFlags.OBJ_KERNEL_HANDLE,
            desiredAccess, out var handle);
        if (status.IsSuccess && kernel) handle = KernelHandles.ToKernel(handle);
        sectionHandle = status.IsSuccess ? handle : 0;
        return status;
    }

    public NtStatus OpenSection(out long sectionHandle, uint desiredAccess, string objectName, uint attributes)
    {
        var (process, thread, kernel) = NewHandleOwner(attributes);
        var status = ob.OpenObjectByName(process, thread, 0, objectName, attributes & ~(uint)ObjectAttributeFlags.OBJ_KERNEL_HANDLE, ObjectTypes.Section,
            desiredAccess, false, out var handle);
        sectionHandle = status.IsSuccess ? (kernel ? KernelHandles.ToKernel(handle) : handle) : 0;
        return status;
    }

    public NtStatus MapViewOfSection(long sectionHandle, long processHandle, ref ulong baseAddress, ref long sectionOffset, ref ulong viewSize, uint protection)
    {
        var status = ReferenceObjectByHandle(sectionHandle, 0, ObjectTypes.Section, ProcessorMode.KernelMode, out var section);
        if (!status.IsSuccess) return status;
        try
        {
            status = ReferenceObjectByHandle(processHandle, 0, ObjectTypes.Process, ProcessorMode.KernelMode, out var target);
            if (processHandle == ObjectManager.CurrentProcessHandle && CurrentContext.Process is null)
            {
                target = processes.System;
                ObjectManager.Reference(target);
                status = NtStatus.STATUS_SUCCESS;
            }
            if (!status.IsSuccess) return status;
            try
            {
                if (ReferenceEquals(target, processes.System))
                {
                    var check = MemoryManager.CheckView((MmSection)section!, protection, sectionOffset, ref viewSize);
                    return check.IsSuccess ? mm.MapSystemView((MmSection)section!, sectionOffset, ref viewSize, out baseAddress) : check;
                }
                return mm.MapUserView((ProcessObject)target!, (MmSection)section!, protection, ref baseAddress, sectionOffset, ref viewSize);
            }
            finally
            {
                ob.Dereference(target!);
            }
        }
        finally
        {
            ob.Dereference(section!);
        }
    }

    public NtStatus UnmapViewOfSection(long processHandle, ulong baseAddress)
    {
        var status = ReferenceObjectByHandle(processHandle, 0, ObjectTypes.Process, ProcessorMode.KernelMode, out var target);
        if (processHandle == ObjectManager.CurrentProcessHandle && CurrentContext.Process is null) return mm.UnmapSystemView(baseAddress);
        if (!status.IsSuccess) return status;
        try
        {
            return ReferenceEquals(target, processes.System) ? mm.UnmapSystemView(baseAddress) : mm.UnmapUserView((ProcessObject)target!, baseAddress);
        }
        finally
        {
            ob.Dereference(target!);
        }
    }

    public NtStatus MapViewInSystemSpace(SectionObject section, out ulong mappedBase, ref ulong viewSize) =>
        mm.MapSystemView((MmSection)section, 0, ref viewSize, out mappedBase);

    public NtStatus UnmapViewInSystemSpace(ulong mappedBase) => mm.UnmapSystemView(mappedBase);

    public Memory<byte> SystemMemory(ulong address, int length) =>
        mm.SystemMemoryAt(address, length) ?? throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:X}+{length} is not in a system view");

    public Mdl? AllocatePagesForMdl(long totalBytes)
    {
        if (totalBytes <= 0 || !CreateSectionObject(totalBytes, out var section, out var address).IsSuccess) return null;
        // The MDL holds the section's creation reference; its system view holds one more.
        return new Mdl(mm.SystemMemoryAt(address, (int)Math.Min(totalBytes, int.MaxValue))!.Value, address, section!);
    }

    public void FreePagesFromMdl(Mdl mdl)
    {
        if (mdl.Pages is not { } pages) return;
        mdl.Pages = null;
        mm.UnmapSystemView(mdl.StartVa);
        ob.Dereference(pages);
    }

    public ulong MapLockedPagesSpecifyCache(Mdl mdl, ProcessorMode accessMode)
    {
        if (accessMode == ProcessorMode.KernelMode) return mdl.StartVa;
        if (mdl.Pages is not MmSection section || CurrentContext.Process is not { } process) return 0;
        ulong address = 0;
        var size = (ulong)mdl.ByteCount;
        return mm.MapUserView(process, section, PageProtection.PAGE_READWRITE, ref address, 0, ref size).IsSuccess ? address : 0;
    }

    public void UnmapLockedPages(ulong baseAddress, Mdl mdl)
    {
        if (baseAddress == mdl.StartVa || CurrentContext.Process is not { } process) return;
        mm.UnmapUserView(process, baseAddress);
    }

    public NtStatus MapSectionIntoCurrentProcess(SectionObject section, ref ulong baseAddress, ref ulong viewSize, uint protection)
    {
        if (CurrentContext.Process is not { } process)
        {
            var check = MemoryManager.CheckView((MmSection)section, protection, 0, ref viewSize);
            return check.IsSuccess ? mm.MapSystemView((MmSection)section, 0, ref viewSize, out baseAddress) : check;
        }
        return mm.MapUserView(process, (MmSection)section, protection, ref baseAddress, 0, ref viewSize);
    }

    public NtStatus CreateSectionObject(long length, out SectionObject? section, out ulong systemAddress)
    {
        section = null;
        systemAddress = 0;
        var status = mm.CreateSection(length, PageProtection.PAGE_READWRITE, MemoryAttributes.SEC_COMMIT, 0, out var created);
        if (!status.IsSuccess) return status;
        ob.Track(created!);
        var size = (ulong)length;
        status = mm.MapSystemView(created!, 0, ref size, out systemAddress);
        if (!status.IsSuccess)
        {
            ob.Dereference(created!);
            return status;
        }
        section = created;
        return NtStatus.STATUS_SUCCESS;
    }

    public void ReleaseSectionObject(SectionObject section, ulong systemAddress)
    {
        mm.UnmapSystemView(systemAddress);
        ob.Dereference(section);
    }

    public KernelBridge.Abi.Rings.IRingDoorbell Doorbell => Platform.FutexDoorbell.Instance;
}
