using KernelBridge.Abi.Security;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// The descriptors the kernel gives what it makes itself, as Windows' defaults (SePublicDefaultUnrestrictedSd
/// and friends): SYSTEM and Administrators hold everything; everyone else may look and, where
/// Windows lets them, create (\BaseNamedObjects) or open for read and write (devices).
/// </summary>
internal static class DefaultSecurity
{
    /// <summary>Directories anyone may list and traverse (\, \Device, \Driver, \??, \ObjectTypes, \KernelObjects).</summary>
    public static SecurityDescriptor PublicDirectory { get; } = Parse("O:SYG:SYD:P(A;;0x120003;;;WD)(A;;0x1F000F;;;SY)(A;;0x1F000F;;;BA)");

    /// <summary>\BaseNamedObjects: anyone may also create objects and subdirectories; nothing is inherited, so a new object gets its creator's default DACL.</summary>
    public static SecurityDescriptor NamedObjects { get; } = Parse("O:SYG:SYD:P(A;;0x12000F;;;WD)(A;;0x1F000F;;;SY)(A;;0x1F000F;;;BA)");

    /// <summary>IoCreateDevice's default for a device (SePublicOpenUnrestrictedSd): anyone may open it to read, write and execute.</summary>
    public static SecurityDescriptor Device { get; } = Parse("O:SYG:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGWGX;;;WD)(A;;GRGX;;;RC)");

    /// <summary>A symbolic link the kernel or a driver makes (SePublicDefaultUnrestrictedSd): anyone may query it.</summary>
    public static SecurityDescriptor SymbolicLink { get; } = Parse("O:SYG:SYD:P(A;;0x1F0001;;;SY)(A;;0x1F0001;;;BA)(A;;0x120001;;;WD)(A;;0x120001;;;RC)");

    /// <summary>\Driver\NAME: SYSTEM and Administrators only.</summary>
    public static SecurityDescriptor Driver { get; } = Parse("O:SYG:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)");

    private static SecurityDescriptor Parse(string sddl) => Sddl.Parse(sddl);
}
