using static KernelBridge.Abi.PageProtection;

namespace KernelBridge.Kernel.Mm;

/// <summary>
/// The rules PAGE_* values follow: which are valid for a section and a view, which view protections
/// a section's protection allows (MiIsProtectionCompatible), and which section rights a view needs.
/// </summary>
internal static class PageProtections
{
    private const uint Base = 0xFF;
    private const uint CacheModifiers = PAGE_NOCACHE | PAGE_WRITECOMBINE;

    /// <summary>A section's protection: one base protection, no PAGE_NOACCESS, no modifier (MiMakeProtectionMask and NtCreateSection's checks).</summary>
    public static bool IsValidForSection(uint protection) =>
        (protection & ~Base) == 0 && protection != 0 && (protection & (protection - 1)) == 0 && protection != PAGE_NOACCESS;

    /// <summary>A view's protection: exactly one base protection, with at most one cache modifier and nothing else.</summary>
    public static bool IsValid(uint protection)
    {
        var basic = protection & Base;
        var rest = protection & ~Base;
        return basic != 0 && (basic & (basic - 1)) == 0 && (rest & ~CacheModifiers) == 0 && rest != CacheModifiers;
    }

    /// <summary>The view protections a section created with <paramref name="section"/> can be mapped with.</summary>
    public static uint CompatibleWith(uint section) => (section & Base) switch
    {
        PAGE_READONLY or PAGE_WRITECOPY => PAGE_NOACCESS | PAGE_READONLY | PAGE_WRITECOPY,
        PAGE_READWRITE => PAGE_NOACCESS | PAGE_READONLY | PAGE_WRITECOPY | PAGE_READWRITE,
        PAGE_EXECUTE => PAGE_NOACCESS | PAGE_EXECUTE,
        PAGE_EXECUTE_READ => PAGE_NOACCESS | PAGE_READONLY | PAGE_WRITECOPY | PAGE_EXECUTE | PAGE_EXECUTE_READ,
        PAGE_EXECUTE_WRITECOPY => PAGE_NOACCESS | PAGE_READONLY | PAGE_WRITECOPY | PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_WRITECOPY,
        PAGE_EXECUTE_READWRITE => Base,
        _ => PAGE_NOACCESS,
    };

    /// <summary>The section rights a view of this protection needs on the handle it is mapped through.</summary>
    public static uint RequiredAccess(uint view) => (view & Base) switch
    {
        PAGE_READWRITE => AccessMask.SECTION_MAP_WRITE,
        PAGE_EXECUTE => AccessMask.SECTION_MAP_EXECUTE,
        PAGE_EXECUTE_READ or PAGE_EXECUTE_WRITECOPY => AccessMask.SECTION_MAP_EXECUTE | AccessMask.SECTION_MAP_READ,
        PAGE_EXECUTE_READWRITE => AccessMask.SECTION_MAP_EXECUTE | AccessMask.SECTION_MAP_WRITE,
        _ => AccessMask.SECTION_MAP_READ,
    };

    /// <summary>A copy-on-write view: the process's writes stay its own.</summary>
    public static bool IsCopyOnWrite(uint view) => (view & Base) is PAGE_WRITECOPY or PAGE_EXECUTE_WRITECOPY;
}
