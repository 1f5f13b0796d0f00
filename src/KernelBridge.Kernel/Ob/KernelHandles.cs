namespace KernelBridge.Kernel.Ob;

/// <summary>
/// Kernel handles (OBJ_KERNEL_HANDLE): entries in the System process's table, told apart from a
/// process's handles by their high bits as on x64 Windows (0xFFFFFFFF8xxxxxxx). User mode cannot use them.
/// </summary>
internal static class KernelHandles
{
    private const long Tag = unchecked((long)0xFFFF_FFFF_8000_0000);

    public static bool IsKernel(long handle) => (handle & Tag) == Tag && handle is not (ObjectManager.CurrentProcessHandle or ObjectManager.CurrentThreadHandle);

    public static long ToKernel(long handle) => handle | Tag;

    public static long FromKernel(long handle) => handle & ~Tag;
}
