using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Mm;

/// <summary>The section type's procedures: when the last reference (handle or view) goes, so does the memory.</summary>
internal sealed class SectionProcedures(MemoryManager mm) : ObjectTypeProcedures
{
    public override void Delete(KernelObject obj) => mm.SectionDeleted((MmSection)obj);
}
